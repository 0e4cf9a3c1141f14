"""Personal data at rest: AES-GCM encryption and a keyed digest for exact lookups.

The key comes from ``MUSTER_FIELD_KEY`` (or the generated ``var/field.key``); two sub-keys are derived
from it, one to encrypt and one to compute the lookup digest (HMAC-SHA256), so equal ID numbers can be
found and kept unique without decrypting every row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

PREFIX = "v1:"
KEY_BYTES = 32  # a field key holds at least this many random bytes
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9_\-+/]+={0,2}")
_MIN_DISTINCT = 8  # fewer different characters than this is no random key ("aaaa…", "abcabc…")


def new_key() -> str:
    """A fresh field key: 32 random bytes in URL-safe base64 (43 characters), as ``muster genkey`` prints."""
    return secrets.token_urlsafe(KEY_BYTES)


def key_problem(secret: str) -> str | None:
    """Why ``secret`` is not a proper field key, or ``None`` when it is one.

    A proper key is at least 32 random bytes written as URL-safe (or standard) base64 — at least 43
    characters, what ``muster genkey`` and the generated ``var/field.key`` hold — or as hex (at least 64
    digits). A pass phrase such as "abc" would make the encryption and the ID-number digests guessable.
    """
    s = secret.strip()
    if not s:
        return _("it is empty")
    if _HEX.fullmatch(s):
        nbytes = len(s) // 2
    elif _BASE64.fullmatch(s):
        nbytes = len(s.rstrip("=")) * 3 // 4
    else:
        return _("it holds characters that are neither base64 nor hex")
    if nbytes < KEY_BYTES:
        return ngettext(
            "it holds %(n)s byte; a key holds at least %(min)s random bytes",
            "it holds %(n)s bytes; a key holds at least %(min)s random bytes",
            nbytes,
        ) % {"n": nbytes, "min": KEY_BYTES}
    if len(set(s)) < _MIN_DISTINCT:
        return _("it repeats too few different characters to be random")
    return None


def key_message(problem: str) -> str:
    return _("MUSTER_FIELD_KEY (or the file var/field.key) is not a proper key: %(problem)s.") % {
        "problem": problem
    }


def key_hint() -> str:
    return _(
        "Generate a key with `muster genkey` and set it as MUSTER_FIELD_KEY, the same on every server, "
        "before personal data is stored (what was encrypted with one key cannot be read with another); "
        "keep it apart from the database backups."
    )


def require_proper_key(secret: str) -> None:
    """Raise ``ImproperlyConfigured`` (the check's message and hint) unless ``secret`` is a proper key."""
    problem = key_problem(secret)
    if problem is not None:
        raise ImproperlyConfigured(f"{key_message(problem)} {key_hint()}")


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[AESGCM, bytes]:
    # Never encrypt or digest with a weak key, whatever the entry point (commands that skip the checks too).
    require_proper_key(secret)
    root = hashlib.sha256(secret.encode()).digest()
    enc = hmac.new(root, b"muster-field-encryption", hashlib.sha256).digest()
    mac = hmac.new(root, b"muster-field-digest", hashlib.sha256).digest()
    return AESGCM(enc), mac


def encrypt(plain: str) -> str:
    if plain == "":
        return ""
    aes, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    nonce = os.urandom(12)
    sealed = aes.encrypt(nonce, plain.encode(), None)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if not token.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    aes, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
    return aes.decrypt(raw[:12], raw[12:], None).decode()


def digest(plain: str) -> str:
    if not plain:
        return ""
    _, mac = _keys(settings.FIELD_ENCRYPTION_KEY)
    return hmac.new(mac, plain.encode(), hashlib.sha256).hexdigest()
