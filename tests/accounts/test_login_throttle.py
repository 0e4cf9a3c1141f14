"""Login throttling (issue 22, holes 4 and 5): every password entry point is slowed down after failures,
by a wait that doubles and ends, counted per user name and address — so an attacker cannot use it to
lock other people out, and behind the reverse proxy every client is told apart.

The clock is frozen in every test that depends on a wait (``clock``): nothing here depends on speed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.accounts.logins import ADMIN, PASSWORD, WEB, attempt, logged_in, wait_asked, wrong_password

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.66"
ELSEWHERE = "203.0.113.20"


@pytest.fixture
def root(make_user: Any) -> Any:
    return make_user("root", is_staff=True, is_superuser=True)


def test_admin_login_is_throttled(root: Any, clock: Any) -> None:
    # The probe sent 52 wrong passwords to /admin/login/ and was never refused.
    results = [attempt("root", f"guess-{i}", ip=ATTACKER, url=ADMIN) for i in range(52)]
    assert all(wrong_password(r) for r in results[:5])
    assert all(wait_asked(r) == 1 for r in results[5:])
    # While the wait lasts even the right password is refused, without being checked.
    r = attempt("root", PASSWORD, ip=ATTACKER, url=ADMIN)
    assert wait_asked(r) == 1
    assert "登录失败次数过多，请在 1 秒后重试。" in r.content.decode()
    clock.shift(timedelta(seconds=1))
    assert logged_in(attempt("root", PASSWORD, ip=ATTACKER, url=ADMIN))


def test_a_refusal_does_not_tell_whether_the_user_name_exists(root: Any, clock: Any) -> None:
    for name in ["root", "no-such-user"]:
        for i in range(5):
            assert wrong_password(attempt(name, f"guess-{i}", ip=ATTACKER, url=ADMIN))
    real = attempt("root", "guess-5", ip=ATTACKER, url=ADMIN)
    invented = attempt("no-such-user", "guess-5", ip=ATTACKER, url=ADMIN)
    assert wait_asked(real) == wait_asked(invented) == 1
    assert real.context["form"].non_field_errors() == invented.context["form"].non_field_errors()


def test_the_wait_doubles_up_to_the_cap_and_ends(settings: Any, make_user: Any, clock: Any) -> None:
    settings.MUSTER_LOGIN_MAX_DELAY_SECONDS = 60
    make_user("li")
    for i in range(5):
        assert wrong_password(attempt("li", f"guess-{i}", ip=ATTACKER))
    waits = []
    for i in range(8):
        wait = wait_asked(attempt("li", "guess", ip=ATTACKER))
        assert wait is not None
        waits.append(wait)
        # Attempts during the wait are refused and do not count: the wait does not grow from them.
        for _ in range(3):
            assert wait_asked(attempt("li", "guess", ip=ATTACKER)) == wait
        clock.shift(timedelta(seconds=wait))
        assert wrong_password(attempt("li", f"guess-again-{i}", ip=ATTACKER))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    # The wait after the last failure: the right password is refused until it ends, then accepted.
    clock.shift(timedelta(seconds=59))
    assert wait_asked(attempt("li", PASSWORD, ip=ATTACKER)) == 1
    clock.shift(timedelta(seconds=1))
    assert logged_in(attempt("li", PASSWORD, ip=ATTACKER))
    # A good password forgets that address's failures: a mistyped one now is just a wrong password.
    assert wrong_password(attempt("li", "typo", ip=ATTACKER))
    assert wrong_password(attempt("li", "typo", ip=ATTACKER))


def test_failures_are_forgotten_after_the_window(settings: Any, make_user: Any, clock: Any) -> None:
    settings.MUSTER_LOGIN_WINDOW_SECONDS = 3600
    make_user("li")
    for i in range(5):
        assert wrong_password(attempt("li", f"guess-{i}", ip=ATTACKER))
    assert wait_asked(attempt("li", "guess", ip=ATTACKER)) == 1
    clock.shift(timedelta(seconds=3601))
    # Five free failures again, then the wait starts over at one second.
    for i in range(5):
        assert wrong_password(attempt("li", f"guess-{i}", ip=ATTACKER))
    assert wait_asked(attempt("li", "guess", ip=ATTACKER)) == 1


def test_wrong_passwords_from_an_attacker_do_not_lock_the_admin_out(root: Any, clock: Any) -> None:
    # Five wrong passwords for the admin's name, on either login page, from the attacker's address ...
    for i in range(5):
        assert wrong_password(attempt("root", f"guess-{i}", ip=ATTACKER, url=[WEB, ADMIN][i % 2]))
    assert wait_asked(attempt("root", "guess", ip=ATTACKER, url=WEB)) == 1
    assert wait_asked(attempt("root", "guess", ip=ATTACKER, url=ADMIN)) == 1
    # The admin, from their own address, logs in at once, on both pages.
    assert logged_in(attempt("root", PASSWORD, ip=ELSEWHERE, url=ADMIN))
    assert logged_in(attempt("root", PASSWORD, ip=ELSEWHERE, url=WEB))
    # ... and that does not give the attacker a fresh start.
    assert wait_asked(attempt("root", "guess", ip=ATTACKER, url=ADMIN)) is not None


def test_invented_names_from_one_address_behind_the_proxy(proxy: Any, make_user: Any, clock: Any) -> None:
    """The probe: 50 failed logins with invented names from one address, behind the documented proxy."""
    make_user("li")
    make_user("wang")
    make_user("zhao")
    office = "198.51.100.10"  # the attacker shares it with wang and zhao (one NAT)
    assert logged_in(proxy("wang", PASSWORD, client=office))  # wang has logged in from here before
    for i in range(50):
        assert wrong_password(proxy(f"invented-{i}", "guess", client=office))
    # The spraying is slowed down now ...
    assert wait_asked(proxy("invented-50", "guess", client=office)) == 1
    # ... but a user at another address is not affected at all,
    assert logged_in(proxy("li", PASSWORD, client=ELSEWHERE))
    # a user at the same address who has logged in from it before is not slowed down,
    assert logged_in(proxy("wang", PASSWORD, client=office))
    # and one who never has is slowed down (the spraying could be theirs), not locked out.
    r = proxy("zhao", PASSWORD, client=office)
    assert wait_asked(r) == 1
    clock.shift(timedelta(seconds=1))
    assert logged_in(proxy("zhao", PASSWORD, client=office))


def test_guessing_one_account_from_many_addresses(settings: Any, make_user: Any, clock: Any) -> None:
    """Failures over all addresses slow one account down too, but only at addresses it has not used."""
    settings.MUSTER_LOGIN_MAX_FAILURES = 2  # so one name over all addresses gets 40 free failures
    make_user("li")
    home = "203.0.113.7"
    assert logged_in(attempt("li", PASSWORD, ip=home))
    for i in range(40):
        assert wrong_password(attempt("li", "guess", ip=f"198.51.100.{i + 1}"))
    # A 41st address is slowed down, and so is li on a new network ...
    assert wait_asked(attempt("li", "guess", ip="198.51.100.200")) == 1
    assert wait_asked(attempt("li", PASSWORD, ip="192.0.2.1")) == 1
    # ... but not at home: the attacker cannot lock li out.
    assert logged_in(attempt("li", PASSWORD, ip=home))


def test_one_ipv6_network_counts_as_one_address(make_user: Any, clock: Any) -> None:
    make_user("li")
    for i in range(5):
        assert wrong_password(attempt("li", "guess", ip=f"2001:db8:1:2::{i + 1}"))
    assert wait_asked(attempt("li", "guess", ip="2001:db8:1:2:ffff::99")) == 1
    assert logged_in(attempt("li", PASSWORD, ip="2001:db8:1:3::1"))  # another /64


def test_a_spoofed_forwarded_address_from_an_untrusted_client_is_ignored(
    settings: Any, make_user: Any, clock: Any
) -> None:
    settings.MUSTER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user("li")
    for i in range(5):
        r = attempt("li", "guess", ip=ATTACKER, forwarded=f"192.0.2.{i + 1}")
        assert wrong_password(r)
    # A new made-up address in the header changes nothing: the client is the socket's address.
    assert wait_asked(attempt("li", "guess", ip=ATTACKER, forwarded="192.0.2.99")) == 1
    # A forwarded address is believed only from the proxy.
    assert logged_in(attempt("li", PASSWORD, ip="10.0.0.2", forwarded="192.0.2.99"))


def test_the_throttle_covers_authenticate_without_a_request(make_user: Any, clock: Any) -> None:
    """Any later entry point calling ``authenticate`` is throttled too (here: no request, no address)."""
    from django.contrib.auth import authenticate

    make_user("li")
    for i in range(5):
        assert authenticate(username="li", password=f"guess-{i}") is None
    assert authenticate(username="li", password=PASSWORD) is None  # refused unchecked
    clock.shift(timedelta(seconds=1))
    assert authenticate(username="li", password=PASSWORD) is not None
