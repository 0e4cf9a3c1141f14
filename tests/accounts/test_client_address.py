"""The client's address (issue 22, hole 5): X-Forwarded-For is believed only from a trusted proxy, and the
audit log records the same address the login throttle counts."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client, RequestFactory

from muster.audit.middleware import client_ip
from muster.audit.models import AuditEvent
from tests.accounts.logins import attempt, wrong_password

PROXIES = ["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # No trusted proxy in front: the socket's address, whatever the header says.
        ("198.51.100.7", "203.0.113.1", "198.51.100.7"),
        ("198.51.100.7", None, "198.51.100.7"),
        # From a trusted proxy: the right-most address that is not a trusted proxy ...
        ("10.0.0.2", "203.0.113.1", "203.0.113.1"),
        ("10.0.0.2", "203.0.113.1, 10.1.1.1, 192.0.2.1", "203.0.113.1"),
        # ... so what the client wrote itself, left of it, is not believed.
        ("10.0.0.2", "6.6.6.6, 203.0.113.1", "203.0.113.1"),
        ("10.0.0.2", "6.6.6.6,203.0.113.1,", "203.0.113.1"),
        # Only trusted proxies: the farthest of them; no header: the proxy itself.
        ("10.0.0.2", "10.9.9.9, 192.0.2.1", "10.9.9.9"),
        ("10.0.0.2", None, "10.0.0.2"),
        # A hop that is not an address stops the walk at the last trusted proxy.
        ("10.0.0.2", "203.0.113.1, garbage", "10.0.0.2"),
        ("10.0.0.2", "203.0.113.1, unknown, 10.1.1.1", "10.1.1.1"),
        # Ports, IPv6 in brackets, IPv4-mapped IPv6.
        ("10.0.0.2", "203.0.113.1:51234", "203.0.113.1"),
        ("10.0.0.2", "[2001:db8:1::5]:443", "2001:db8:1::5"),
        ("2001:db8:ffff::1", "2001:db8:2::7", "2001:db8:2::7"),
        ("::ffff:10.0.0.2", "203.0.113.1", "203.0.113.1"),
        ("::ffff:198.51.100.7", "203.0.113.1", "198.51.100.7"),
        # No usable socket address.
        ("", "203.0.113.1", None),
        ("not-an-address", None, None),
    ],
)
def test_client_address(settings: Any, remote: str, forwarded: str | None, expected: str | None) -> None:
    settings.MUSTER_TRUSTED_PROXIES = PROXIES
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **extra)) == expected


def test_nobody_is_trusted_by_default(settings: Any) -> None:
    assert settings.MUSTER_TRUSTED_PROXIES == []
    r = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(r) == "10.0.0.2"


@pytest.mark.django_db
def test_the_audit_log_records_the_forwarded_address_only_from_the_proxy(
    settings: Any, make_user: Any
) -> None:
    settings.MUSTER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user("li")
    assert wrong_password(attempt("li", "guess", ip="10.0.0.2", forwarded="6.6.6.6, 198.51.100.7"))
    assert wrong_password(attempt("li", "guess", ip="203.0.113.5", forwarded="198.51.100.8"))
    failed = AuditEvent.objects.filter(action="accounts.login.failed").order_by("id")
    assert [e.ip for e in failed] == ["198.51.100.7", "203.0.113.5"]


@pytest.mark.django_db
def test_api_changes_are_audited_with_the_forwarded_address(settings: Any, make_user: Any) -> None:
    settings.MUSTER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    user = make_user("li")
    for remote, expected in [("10.0.0.2", "198.51.100.7"), ("203.0.113.5", "203.0.113.5")]:
        c = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR="198.51.100.7")
        c.force_login(user)
        r = c.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
        assert r.status_code == 201, r.content
        event = AuditEvent.objects.filter(action="accounts.token.created").order_by("-id").first()
        assert event is not None and (event.ip, event.channel) == (expected, "api")


def test_a_mistyped_trusted_proxy_stops_the_start() -> None:
    env = {**os.environ, "MUSTER_TRUSTED_PROXIES": "10.0.0.0/8, 10.0.0.x"}
    run = subprocess.run(
        [sys.executable, "-c", "import muster.settings"], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode != 0
    assert "MUSTER_TRUSTED_PROXIES" in run.stderr and "10.0.0.x" in run.stderr
