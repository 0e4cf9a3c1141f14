"""Carrying one message out of Muster: e-mail through Django's mail framework, group bots through apprise.

Pure transport: no models, no database. Each function raises ``SendError`` (worth retrying: the server
was down, answered 500, timed out) or ``Refused`` (a configuration that will not work however often it is
tried: a bot address of the wrong form, a webhook on a private network address).

Where apprise carries the message (WeCom, DingTalk, Feishu without a signing secret) its plugins build the
payload and post it. Three things apprise 2.3.0 cannot do are done here with one signed POST each:

* the generic webhook's HMAC-SHA256 signature header over the body (apprise's ``json://`` sends fixed
  headers, so it cannot sign the body it builds);
* Feishu's signature check (签名校验: ``timestamp`` and ``sign`` inside the JSON body), which its
  ``feishu://`` plugin has no option for;
* DingTalk's signature (加签) is apprise's own, but its plugin URL-quotes the base64 signature and then
  passes it to ``requests`` as a query parameter, which quotes it again (``%3D`` becomes ``%253D``), and
  DingTalk answers "sign not match". A subclass returns the signature unquoted, so it is quoted once.

The hand-written POSTs use ``requests`` (which apprise itself is built on) with timeouts and no redirects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import apprise
import requests
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.wecombot import NotifyWeComBot
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

TIMEOUT = (5.0, 15.0)  # connect, read (seconds)
SIGNATURE_HEADER = "X-Muster-Signature"


class SendError(Exception):
    """The message did not get through this time; another attempt may succeed."""


class Refused(SendError):
    """The message cannot get through with this configuration; retrying will not help.

    ``field`` names the input at fault (``url`` or ``secret``) when the check runs on a form's values.
    """

    def __init__(self, message: str, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Content:
    title: str
    text: str
    verb: str = ""
    link: str = ""
    team: str = ""
    delivery_id: int | None = None


# ------------------------------------------------------------------------------------------------ e-mail


def send_email(address: str, content: Content) -> None:
    """One plain-text e-mail through the configured backend (SMTP in production)."""
    message = EmailMessage(
        subject=" ".join(content.title.split())[:200],
        body=content.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        connection=get_connection(fail_silently=False),
    )
    try:
        message.send()
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors; a TLS/SSL mix-up a ValueError
        # A refused recipient's error names the address, which is stored encrypted: not in the log.
        raise SendError(_redact(f"{type(exc).__name__}: {exc}", address)[:1000]) from exc


def email_configured() -> bool:
    """Whether e-mail can go out: an SMTP backend needs ``MUSTER_EMAIL_HOST``; other backends need nothing."""
    if "email" not in getattr(settings, "MUSTER_NOTIFY_CHANNELS", []):
        return False
    backend = getattr(settings, "EMAIL_BACKEND", "")
    return not backend.endswith("smtp.EmailBackend") or bool(getattr(settings, "EMAIL_HOST", ""))


# -------------------------------------------------------------------------------------------- bot addresses

_BOT_URLS = {
    "wecom": re.compile(
        r"^https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=(?P<token>[A-Za-z0-9_-]+)$"
    ),
    "dingtalk": re.compile(r"^https://oapi\.dingtalk\.com/robot/send\?access_token=(?P<token>[A-Za-z0-9]+)$"),
    "feishu": re.compile(r"^https://open\.feishu\.cn/open-apis/bot/v2/hook/(?P<token>[A-Za-z0-9_-]+)/?$"),
}
_SECRETS = {
    "dingtalk": re.compile(r"^[A-Za-z0-9]+$"),
    "feishu": re.compile(r"^[\x21-\x7e]+$"),
    "webhook": re.compile(r"^[\x21-\x7e]{16,200}$"),
}


def bot_token(kind: str, url: str) -> str:
    """The access token in a group bot's address, as the platform shows it; ``Refused`` if malformed."""
    pattern = _BOT_URLS.get(kind)
    match = pattern.match(url.strip()) if pattern else None
    if match is None:
        raise Refused(_("This is not the address of a group bot of this type."))
    return match.group("token")


def check_bot(kind: str, url: str, secret: str) -> None:
    """Refuse an address or secret that cannot work (raised as ``Refused`` with a translated message)."""
    if kind == "webhook":
        check_webhook_url(url, resolve=False)
        if not _SECRETS["webhook"].match(secret):
            raise Refused(
                _("A signed webhook needs a shared secret of 16 to 200 printable characters."), "secret"
            )
        return
    bot_token(kind, url)
    if not secret:
        return
    if kind == "wecom":
        raise Refused(_("WeCom group bots have no signing secret; leave it empty."), "secret")
    if len(secret) > 200 or not _SECRETS[kind].match(secret):
        raise Refused(
            _("The signing secret has characters it cannot have; copy it again from the bot."), "secret"
        )


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def check_webhook_url(url: str, *, resolve: bool = True) -> None:
    """An http(s) address on a public host, unless ``MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS``.

    A team manager chooses the address and the server posts to it, so without this check a webhook
    could reach services on the server's own network (``127.0.0.1``, ``10.…``, the cloud metadata
    address). The host is resolved at each send (``resolve``); when saving, only a literal address or
    ``localhost`` is checked, so a temporarily unresolvable name can still be saved.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise Refused(_("Enter an http:// or https:// address without a user name or password."))
    if len(url) > 1000:
        raise Refused(_("The address is too long."))
    if getattr(settings, "MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS", False):
        return
    host = parts.hostname
    refused = Refused(_("Webhooks to private network addresses are not allowed on this server."))
    if host == "localhost" or host.endswith(".localhost"):
        raise refused
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if _private(str(literal)):
            raise refused
        return
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise SendError(f"DNS: {exc}") from exc
    if any(_private(str(info[4][0]).split("%")[0]) for info in infos):
        raise refused


# ------------------------------------------------------------------------------------------------ sending


class _DingTalk(NotifyDingTalk):
    """apprise's DingTalk plugin with its signature quoted once (see the module's docstring)."""

    def get_signature(self) -> tuple[str, str]:
        timestamp, signature = super().get_signature()
        return timestamp, unquote(signature)


def _plugin(kind: str, url: str, secret: str) -> Any:
    token = bot_token(kind, url)
    if kind == "wecom":
        return NotifyWeComBot(key=token)
    if kind == "dingtalk":
        return _DingTalk(token=token, secret=secret or None)
    return NotifyFeishu(token=token)


def _redact(text: str, *secrets: str) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _via_apprise(kind: str, url: str, secret: str, content: Content) -> None:
    token = bot_token(kind, url)
    try:
        plugin = _plugin(kind, url, secret)
    except Exception as exc:  # apprise raises its own configuration error
        raise Refused(_redact(str(exc), token, secret)) from exc
    plugin.socket_connect_timeout, plugin.socket_read_timeout = TIMEOUT
    client = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
    client.add(plugin)
    result = client.notify(body=content.text or content.title, title=content.title)
    if not result:
        lines = [e.message for e in result.logs() if e.level in {"WARNING", "ERROR", "CRITICAL"}]
        raise SendError(_redact("; ".join(lines) or "apprise: not delivered", token, secret)[:1000])


class _PeerCheckedHTTPConnection(HTTPConnection):
    """Refuses, once connected, a peer on a private address: the name may resolve to another address
    at connect time than when ``check_webhook_url`` looked it up (DNS rebinding)."""

    def connect(self) -> None:
        super().connect()
        _refuse_private_peer(self.sock)


class _PeerCheckedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _refuse_private_peer(self.sock)


def _refuse_private_peer(sock: Any) -> None:
    if getattr(settings, "MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS", False) or sock is None:
        return
    peer = str(sock.getpeername()[0]).split("%")[0]
    if _private(peer):
        sock.close()
        raise Refused(_("Webhooks to private network addresses are not allowed on this server."))


class _PeerCheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("_Pool", (HTTPConnectionPool,), {"ConnectionCls": _PeerCheckedHTTPConnection}),
            "https": type("_SPool", (HTTPSConnectionPool,), {"ConnectionCls": _PeerCheckedHTTPSConnection}),
        }


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the one reached
    adapter = _PeerCheckedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _post(url: str, body: bytes, headers: dict[str, str], *, secrets: tuple[str, ...]) -> requests.Response:
    parts = urlsplit(url)
    # An error message carries the address; its path and query are the bot's credentials.
    hidden = (url, parts.path if len(parts.path) > 1 else "", parts.query, *secrets)
    try:
        with _session() as session:
            response = session.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except Refused:
        raise
    except requests.RequestException as exc:
        cause = exc.__context__ if isinstance(exc.__context__, Refused) else None
        if cause is not None:
            raise cause from exc
        raise SendError(_redact(f"{type(exc).__name__}: {exc}", *hidden)[:1000]) from exc
    if not 200 <= response.status_code < 300:
        raise SendError(f"HTTP {response.status_code} {response.reason or ''}".strip())
    return response


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's signature: HMAC-SHA256 keyed with ``timestamp + "\\n" + secret`` over nothing, base64."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _feishu_signed(url: str, secret: str, content: Content) -> None:
    token = bot_token("feishu", url)
    timestamp = str(int(time.time()))
    text = f"{content.title}\n{content.text}" if content.text else content.title
    payload = {
        "timestamp": timestamp,
        "sign": feishu_sign(secret, timestamp),
        "msg_type": "text",
        "content": {"text": text},
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Muster"}
    response = _post(url.strip(), body, headers, secrets=(token, secret))
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("code"):
        raise SendError(f"Feishu: {answer.get('code')} {answer.get('msg', '')}".strip())


def webhook_signature(secret: str, body: bytes) -> str:
    """The value of ``X-Muster-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook(url: str, secret: str, content: Content) -> None:
    check_webhook_url(url)
    payload = {
        "id": content.delivery_id,
        "event": content.verb,
        "title": content.title,
        "text": content.text,
        "link": content.link,
        "team": content.team,
        "sent_at": int(time.time()),
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Muster",
        SIGNATURE_HEADER: webhook_signature(secret, body),
        "X-Muster-Event": content.verb,
        "X-Muster-Delivery": str(content.delivery_id or ""),
    }
    _post(url.strip(), body, headers, secrets=(secret,))


def send_bot(kind: str, url: str, secret: str, content: Content) -> None:
    """Post ``content`` to a group bot or webhook of ``kind``."""
    if kind == "webhook":
        _webhook(url, secret, content)
    elif kind == "feishu" and secret:
        _feishu_signed(url, secret, content)
    elif kind in _BOT_URLS:
        _via_apprise(kind, url, secret, content)
    else:
        raise Refused(_("Unknown channel."))
