from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from muster.audit.context import origin

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> Address | None:
    """An address from a socket or an X-Forwarded-For entry (a port, ``1.2.3.4:80`` or ``[::1]:80``, is
    dropped; an IPv4-mapped IPv6 address is its IPv4 address); ``None`` if it is not one."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in n for n in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address — the one function that says it, for the audit log and the login throttle.

    The socket's address (REMOTE_ADDR), unless that is a trusted proxy (``MUSTER_TRUSTED_PROXIES``): then
    X-Forwarded-For is read from the right, past the addresses of trusted proxies, and the first one that
    is not a trusted proxy is the client (what is left of it was written by the client, who can write
    anything). An entry that is not an address stops the walk at the last trusted proxy before it.
    """
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = _networks(tuple(str(p) for p in settings.MUSTER_TRUSTED_PROXIES))
    if not _trusted(remote, networks):
        return str(remote)
    client = remote
    for hop in reversed((request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        if not hop.strip():
            continue
        address = _parse(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


class AuditContextMiddleware:
    """Records the client address and channel (web or api) for every audit event of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with origin(client_ip(request), channel):
            return self.get_response(request)
