"""API authentication (token and session with CSRF), the caller's account and tokens, the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from muster.accounts.models import ApiToken
from muster.accounts.services import token_create
from muster.audit.models import AuditEvent
from muster.orgs.models import Person, Unit

from .helpers import API, codes, get, post


@pytest.fixture
def manager(world: Any, make_user: Callable[..., Any]) -> Any:
    return make_user("xh-manager", "manager", world.org.xuhui)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ anonymous


# The one public operation: a certificate's verification (the QR code on a printed certificate leads
# anyone to it; it answers the masked name, hours, issuer and state only — tests/honors).
PUBLIC = {API + "/honors/verify/{token}"}


def _operations(client: Client) -> list[tuple[str, str]]:
    doc = client.get(API + "/openapi.json").json()
    ops = []
    for path, methods in doc["paths"].items():
        if path in PUBLIC:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        ops += [(method, concrete) for method in methods]
    return ops


def test_every_operation_requires_authentication(world: Any) -> None:
    """Each operation in the OpenAPI document answers 401 to an anonymous caller (CSRF enforced or not)."""
    for client in (Client(), Client(enforce_csrf_checks=True)):
        ops = _operations(client)
        assert len(ops) >= 20
        for method, path in ops:
            r = (
                getattr(client, method)(path, {}, content_type="application/json")
                if method != "get"
                else client.get(path)
            )
            assert r.status_code == 401, (method, path, r.status_code)
            assert set(r.json()) == {"detail"}


def test_every_operation_declares_both_security_schemes(client: Client) -> None:
    doc = client.get(API + "/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for path, methods in doc["paths"].items():
        for op in methods.values():
            assert len(op.get("security", [])) == (0 if path in PUBLIC else 2), path


# ------------------------------------------------------------------ tokens


def test_token_authentication(world: Any, manager: Any) -> None:
    _token, raw = token_create(actor=manager, user=manager, name="script")
    c = Client()
    r = c.get(API + "/people", headers=bearer(raw))
    assert r.status_code == 200
    assert codes(r.json()) == {"XH0001", "XH0002"}  # scoped like the user's session
    # Token requests need no CSRF token, even with CSRF checks enforced.
    strict = Client(enforce_csrf_checks=True)
    r = strict.patch(
        API + "/units/XH-S1", {"short_name": "一所"}, content_type="application/json", headers=bearer(raw)
    )
    assert r.status_code == 200, r.content
    event = AuditEvent.objects.filter(action="orgs.unit.updated").latest("id")
    assert (event.actor_name, event.channel) == ("xh-manager", "api")
    assert ApiToken.objects.get(user=manager).last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer mst_wrong",
        "Bearer not-even-a-muster-token",
        "Bearer ",
        "Token {raw}",
        "Basic {raw}",
        "Bearer {raw}x",
    ],
)
def test_wrong_token_is_401(world: Any, manager: Any, header: str) -> None:
    _token, raw = token_create(actor=manager, user=manager, name="script")
    r = Client().get(API + "/units", headers={"Authorization": header.format(raw=raw)})
    assert r.status_code == 401


def test_revoked_token_is_401(world: Any, manager: Any) -> None:
    token, raw = token_create(actor=manager, user=manager, name="script")
    c = Client()
    assert c.get(API + "/units", headers=bearer(raw)).status_code == 200
    token.revoked_at = timezone.now() - timedelta(seconds=1)
    token.save()
    assert c.get(API + "/units", headers=bearer(raw)).status_code == 401


def test_token_of_inactive_user_is_401(world: Any, manager: Any) -> None:
    _token, raw = token_create(actor=manager, user=manager, name="script")
    manager.is_active = False
    manager.save()
    assert Client().get(API + "/units", headers=bearer(raw)).status_code == 401


def test_token_lifecycle_through_the_api(world: Any, manager: Any, login: Callable[[Any], Client]) -> None:
    session = login(manager)
    r = post(session, "/tokens", {"name": "nightly export"})
    assert r.status_code == 201
    created = r.json()
    raw = created["token"]
    assert raw.startswith("mst_") and created["prefix"] == raw[:12]
    assert created["name"] == "nightly export"
    listed = get(session, "/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]  # shown only once
    assert Client().get(API + "/me", headers=bearer(raw)).json()["username"] == "xh-manager"
    assert session.delete(f"{API}/tokens/{created['id']}").status_code == 204
    assert Client().get(API + "/me", headers=bearer(raw)).status_code == 401
    assert get(session, "/tokens").json()[0]["revoked_at"] is not None
    assert session.delete(f"{API}/tokens/{created['id']}").status_code == 204  # idempotent
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.token.created", "accounts.token.revoked"} <= actions


def test_cannot_see_or_revoke_another_users_token(
    world: Any, manager: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    other = make_user("other", "admin", world.org.root)
    token, raw = token_create(actor=other, user=other, name="theirs")
    c = login(manager)
    assert get(c, "/tokens").json() == []
    assert c.delete(f"{API}/tokens/{token.pk}").status_code == 404
    assert Client().get(API + "/me", headers=bearer(raw)).status_code == 200


def test_me(world: Any, manager: Any, login: Callable[[Any], Client], make_user: Callable[..., Any]) -> None:
    Person.objects.filter(code="XH0002").update(user=manager)
    body = get(login(manager), "/me").json()
    assert body["username"] == "xh-manager"
    assert body["is_superuser"] is False
    assert body["person"] == "XH0002"
    assert [(g["unit"], g["role"]) for g in body["grants"]] == [("XH", "manager")]
    assert body["grants"][0]["role_label"] and body["grants"][0]["unit_name"] == "徐汇区税务局"
    nobody = get(login(make_user("nobody")), "/me").json()
    assert (nobody["person"], nobody["grants"]) == (None, [])


# ------------------------------------------------------------------ session and CSRF


def test_session_post_needs_csrf_token(world: Any, manager: Any) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(manager)
    data = {"code": "XH-S7", "name": "七所", "kind": "tax_office", "parent": "XH"}
    r = c.post(API + "/units", data, content_type="application/json")
    assert r.status_code == 403
    assert not Unit.objects.filter(code="XH-S7").exists()
    # Safe methods need none.
    assert c.get(API + "/units").status_code == 200
    # The browser sends the csrftoken cookie's value back in X-CSRFToken (a secret is 32 letters/digits).
    secret = "k7" * 16
    c.cookies["csrftoken"] = secret
    r = c.post(API + "/units", data, content_type="application/json", HTTP_X_CSRFTOKEN="wrong" + secret[5:])
    assert r.status_code == 403
    r = c.post(API + "/units", data, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert r.status_code == 201, r.content
    assert Unit.objects.filter(code="XH-S7").exists()


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_every_unsafe_method_checks_csrf(world: Any, manager: Any, method: str) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(manager)
    url = {"post": "/teams/XH-T1/members", "patch": "/teams/XH-T1", "delete": "/teams/XH-T1/members/XH0001"}[
        method
    ]
    r = getattr(c, method)(API + url, {"person": "XH0002", "name": "x"}, content_type="application/json")
    assert r.status_code == 403
    assert Person.objects.get(code="XH0001").team_memberships.count() == 1


def test_logged_out_session_is_401(world: Any, manager: Any, login: Callable[[Any], Client]) -> None:
    c = login(manager)
    assert c.get(API + "/units").status_code == 200
    c.logout()
    assert c.get(API + "/units").status_code == 401


# ------------------------------------------------------------------ OpenAPI


def test_openapi_document_lists_the_paths(client: Client) -> None:
    r = client.get(API + "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Muster API"
    expected = {
        ("get", "/units"),
        ("post", "/units"),
        ("get", "/units/{code}"),
        ("patch", "/units/{code}"),
        ("post", "/units/{code}/move"),
        ("get", "/people"),
        ("post", "/people"),
        ("get", "/people/{code}"),
        ("patch", "/people/{code}"),
        ("get", "/teams"),
        ("post", "/teams"),
        ("get", "/teams/{code}"),
        ("patch", "/teams/{code}"),
        ("post", "/teams/{code}/members"),
        ("delete", "/teams/{code}/members/{person}"),
        ("get", "/partners"),
        ("post", "/partners"),
        ("get", "/partners/{code}"),
        ("post", "/people/import"),  # the staff register (issue 23); /roster/… are its deprecated aliases
        ("post", "/people/import/confirm"),  # a passing dry run's kept upload (issue 27, item 12)
        ("get", "/people/export"),
        ("post", "/roster/import"),
        ("get", "/roster/export"),
        ("get", "/me"),
        ("get", "/tokens"),
        ("post", "/tokens"),
        ("delete", "/tokens/{token_id}"),
        # party life and points (issue 6)
        ("get", "/partylife/meetings"),
        ("post", "/partylife/meetings"),
        ("get", "/partylife/meetings/{meeting_id}"),
        ("patch", "/partylife/meetings/{meeting_id}"),
        ("post", "/partylife/meetings/{meeting_id}/attendance"),
        ("post", "/partylife/meetings/{meeting_id}/submit"),
        ("post", "/partylife/meetings/{meeting_id}/approve"),
        ("post", "/partylife/meetings/{meeting_id}/return"),
        ("post", "/partylife/meetings/{meeting_id}/correction"),
        ("get", "/partylife/review-queue"),
        ("get", "/partylife/compliance"),
        ("get", "/partylife/calendar"),
        ("get", "/partylife/inactivity"),
        ("get", "/partylife/talks"),
        ("post", "/partylife/talks"),
        ("post", "/partylife/talks/{talk_id}/withdraw"),
        ("get", "/partylife/talks/matrix"),
        ("get", "/partylife/cases"),
        ("post", "/partylife/cases"),
        ("get", "/partylife/cases/due"),
        ("post", "/partylife/cases/{case_id}/talk"),
        ("post", "/partylife/cases/{case_id}/advance"),
        ("post", "/partylife/cases/{case_id}/extend"),
        ("post", "/partylife/cases/{case_id}/close"),
        ("get", "/partylife/posts"),
        ("post", "/partylife/posts"),
        ("post", "/partylife/posts/{post_id}/end"),
        ("get", "/partylife/contact-points"),
        ("post", "/partylife/contact-points"),
        ("post", "/partylife/contact-points/{cp_id}/end"),
        ("get", "/partylife/contact-points/{cp_id}/visits"),
        ("post", "/partylife/contact-points/{cp_id}/visits"),
        ("get", "/partylife/honors"),
        ("post", "/partylife/honors"),
        ("post", "/partylife/honors/{honor_id}/decide"),
        ("post", "/partylife/honors/with-evidence"),
        ("get", "/partylife/honors/{honor_id}/evidence"),
        ("post", "/partylife/honors/{honor_id}/evidence"),
        ("get", "/partylife/exemptions"),
        ("post", "/partylife/exemptions"),
        ("post", "/partylife/exemptions/{exemption_id}/revoke"),
        ("get", "/points/statement"),
        ("get", "/points/leaderboard"),
        ("get", "/points/rules"),
        ("post", "/points/rules"),
        ("post", "/points/manual"),
        ("post", "/points/manual/{fact_id}/retract"),
        ("post", "/points/recompute"),
        # rostering (issue 5)
        ("post", "/roster/plans"),
        ("get", "/roster/plans/{plan_id}"),
        ("get", "/roster/plans/{plan_id}/progress"),
        ("post", "/roster/plans/{plan_id}/solve"),
        ("post", "/roster/plans/{plan_id}/cancel"),
        ("post", "/roster/plans/{plan_id}/edit"),
        ("post", "/roster/plans/{plan_id}/publish"),
    }
    # mobilization, reports and notifications list their own paths in their own tests
    listed = {
        (m, p.removeprefix(API))
        for p, ops in doc["paths"].items()
        for m in ops
        if not p.removeprefix(API).startswith(
            ("/mobilize/", "/reports/", "/notify/", "/care/", "/outreach/", "/honors/", "/volunteers/")
        )
    }
    assert listed == expected
    people_params = {p["name"] for p in doc["paths"][API + "/people"]["get"]["parameters"]}
    assert {
        "q",
        "unit",
        "political_status",
        "employment_status",
        "team",
        "tag",
        "page",
        "page_size",
    } <= people_params
    upload = doc["paths"][API + "/roster/import"]["post"]["requestBody"]["content"]
    assert "file" in upload["multipart/form-data"]["schema"]["properties"]


def test_docs_page_is_served(client: Client) -> None:
    r = client.get(API + "/docs")
    assert r.status_code == 200
    assert b"openapi.json" in r.content
