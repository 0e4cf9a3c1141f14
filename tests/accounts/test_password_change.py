"""Changing a password checks the old one like a login does: on the app's page and on the Django admin's
(``/admin/password_change/``) a wrong old password counts in the login throttle and backs off the same
way — a stolen session cannot be used to guess the password faster than the login page allows. And
behind one address (an office NAT, seen through the reverse proxy) one attacker cannot slow down or lock
out the people who share it.

The clock is frozen (``clock``): nothing here depends on speed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from muster.audit.models import AuditEvent
from tests.accounts.logins import PASSWORD, attempt, logged_in, wait_asked, wrong_password

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.66"
HOME = "203.0.113.20"
NEW = "new-Passw0rd-2026!x"
PAGES = ["/accounts/password/", "/admin/password_change/"]


def _session(user: Any, ip: str) -> Client:
    c = Client(REMOTE_ADDR=ip)
    c.force_login(user)
    return c


def _change(c: Client, url: str, old: str, new: str = NEW) -> Any:
    return c.post(url, {"old_password": old, "new_password1": new, "new_password2": new})


def _old_password_error(r: Any) -> tuple[str, dict[str, Any] | None] | None:
    """(code, params) of the error on the old password, or None when the form took it."""
    if r.status_code != 200:
        return None
    errors = r.context["form"].errors.as_data().get("old_password", [])
    return (errors[0].code, errors[0].params) if errors else None


@pytest.mark.parametrize("url", PAGES)
def test_wrong_old_passwords_back_off_like_failed_logins(url: str, make_user: Any, clock: Any) -> None:
    li = make_user("li", is_staff=True)
    stolen = _session(li, ATTACKER)  # a session someone else got hold of
    for i in range(5):
        assert _old_password_error(_change(stolen, url, f"guess-{i}")) == ("password_incorrect", None)
    r = _change(stolen, url, "guess-5")
    assert _old_password_error(r) == ("locked", {"seconds": 1})
    # While the wait lasts even the right old password is refused, without being checked; it doubles.
    assert _old_password_error(_change(stolen, url, PASSWORD)) == ("locked", {"seconds": 1})
    clock.shift(timedelta(seconds=1))
    assert _old_password_error(_change(stolen, url, "guess-6")) == ("password_incorrect", None)
    assert _old_password_error(_change(stolen, url, PASSWORD)) == ("locked", {"seconds": 2})
    # The same count as the login page's: the attacker's address cannot log in as li either now ...
    assert wait_asked(attempt("li", PASSWORD, ip=ATTACKER)) == 2
    # ... while li at home is not affected, on either page.
    assert logged_in(attempt("li", PASSWORD, ip=HOME))
    r = _change(_session(li, HOME), url, PASSWORD)
    assert r.status_code == 302
    li.refresh_from_db()
    assert li.check_password(NEW)
    failed = AuditEvent.objects.filter(action="accounts.password_change.failed")
    assert failed.count() == 6
    assert set(failed.values_list("ip", flat=True)) == {ATTACKER}


def test_the_app_has_its_own_password_page(make_user: Any, clock: Any) -> None:
    li = make_user("li")
    c = _session(li, HOME)
    page = c.get("/")
    assert 'href="/accounts/password/"' in page.content.decode()
    r = _change(c, "/accounts/password/", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/accounts/password/done/"
    assert 'id="password-changed"' in c.get(r["Location"]).content.decode()
    assert get_user_model().objects.get(username="li").check_password(NEW)
    assert Client().get("/accounts/password/").status_code == 302  # to the login page


def test_thirty_people_behind_one_address_are_not_locked_out_by_one_attacker(
    proxy: Any, make_user: Any, clock: Any
) -> None:
    """Behind the reverse proxy, an office NAT: 30 users and one attacker share one address. The attacker
    fails 50 times on one name (waiting out every backoff); all 30 then log in at once — those who have
    logged in from there before and those who never have."""
    office = "198.51.100.10"
    users = [make_user(f"staff{i:02d}") for i in range(30)]
    for user in users[:15]:
        assert logged_in(proxy(user.username, PASSWORD, client=office))
    failures = 0
    while failures < 50:
        r = proxy("staff00", f"guess-{failures}", client=office)
        wait = wait_asked(r)
        if wait:
            clock.shift(timedelta(seconds=wait))
            continue
        assert wrong_password(r)
        failures += 1
    assert wait_asked(proxy("staff00", "guess", client=office))  # the attacker is slowed down ...
    for user in users[1:]:  # ... nobody else is
        assert logged_in(proxy(user.username, PASSWORD, client=office)), user.username
    # the owner of the name the attacker guessed logs in from anywhere else
    assert logged_in(proxy("staff00", PASSWORD, client="203.0.113.99"))
    # Many names from that address (spraying: 50 distinct names with staff00) do slow down those who
    # have not logged in from it before, softly: a short wait that ends.
    for i in range(49):
        assert wrong_password(proxy(f"invented-{i}", "guess", client=office))
    wait = wait_asked(proxy("newcomer", PASSWORD, client=office))
    assert wait is not None and wait <= 60
