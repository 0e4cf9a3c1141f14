"""Where a change comes from (address, channel), set once per request or command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    channel: str = "system"  # web, api, cli, system


_DEFAULT = Origin()
_origin: ContextVar[Origin] = ContextVar("muster_audit_origin", default=_DEFAULT)


def current_origin() -> Origin:
    return _origin.get()


@contextmanager
def origin(ip: str | None, channel: str) -> Iterator[None]:
    token = _origin.set(Origin(ip=ip, channel=channel))
    try:
        yield
    finally:
        _origin.reset(token)
