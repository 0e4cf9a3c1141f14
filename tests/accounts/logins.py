"""Logging in from a given address, through the interfaces people use (the login page, the admin's)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpResponse
from django.test import Client

PASSWORD = "pw-Muster-2026"  # the make_user fixture's
WEB = "/accounts/login/"
ADMIN = "/admin/login/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def attempt(
    username: str, password: str, *, ip: str, forwarded: str | None = None, url: str = WEB
) -> HttpResponse:
    """One login from a fresh browser whose connection comes from ``ip`` (with an X-Forwarded-For)."""
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client(**extra).post(url, {"username": username, "password": password})


def wait_asked(r: HttpResponse) -> int | None:
    """The seconds the throttle asks to wait before the next try, or None if it did not refuse."""
    if r.status_code != 200:
        return None
    for error in r.context["form"].errors.as_data().get("__all__", []):
        if error.code == "locked":
            return int(error.params["seconds"])
    return None


def logged_in(r: HttpResponse) -> bool:
    return r.status_code == 302


def wrong_password(r: HttpResponse) -> bool:
    """Refused for the password, not by the throttle."""
    return r.status_code == 200 and [e.code for e in r.context["form"].errors.as_data()["__all__"]] == [
        "invalid_login"
    ]
