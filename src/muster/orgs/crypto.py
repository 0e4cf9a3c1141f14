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
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "v1:"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[AESGCM, bytes]:
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
