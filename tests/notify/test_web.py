"""The notification pages: a person's choices and the test button (once through a real SMTP exchange
with the local sink), a team's bots on the team page, the delivery log and its scope (out of scope = 404,
visible but not allowed = 403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from muster.audit.models import AuditEvent
from muster.notify.models import Delivery, DeliveryStatus, Preference, TeamBot
from muster.notify.services import bot_create, notify, preference_set
from muster.orgs.access import SYSTEM
from muster.orgs.models import Team
from muster.orgs.services import team_create

from .helpers import get, link, post
from .sinks import HttpSink, SmtpSink

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-123_ABCD"


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db(transaction=True)
def test_settings_and_test_button_through_a_real_smtp_server(
    org: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    smtp_sink: SmtpSink,
    settings: Any,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "Muster <muster@tax.example.org>"
    user = make_user("alice")
    link(org.alice, user)
    c = english(login(user))
    page = c.get("/notifications/settings/")
    assert page.status_code == 200
    assert b'id="preferences-form"' in page.content and b'id="test-email"' not in page.content
    r = c.post(
        "/notifications/settings/",
        {"email_enabled": "on", "email": "zhangli@tax.example.org", "digest": "immediate"},
        follow=True,
    )
    assert b"Your choices were saved." in r.content
    assert b'id="test-email"' in r.content
    r = c.post("/notifications/settings/test/", follow=True)
    assert b"The test message was sent to z***@tax.example.org." in r.content
    [message] = smtp_sink.messages
    assert smtp_sink.envelopes == [("muster@tax.example.org", ["zhangli@tax.example.org"])]
    assert message["Subject"] == "Muster test message"
    assert message["To"] == "zhangli@tax.example.org"
    assert "If you can read it" in message.get_content()
    d = Delivery.objects.get()
    assert (d.kind, d.channel, d.status, d.attempts) == ("test", "email", "sent", 1)
    assert b"z***@tax.example.org" in c.get("/notifications/deliveries/").content
    assert AuditEvent.objects.filter(action="notify.test.sent", target_id=str(org.alice.pk)).count() == 1


def test_settings_errors_are_shown_on_the_form(
    org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    user = make_user("alice")
    link(org.alice, user)
    c = english(login(user))
    r = c.post(
        "/notifications/settings/", {"email_enabled": "on", "email": "not-an-address", "digest": "daily"}
    )
    assert r.status_code == 200 and b"Enter a valid e-mail address." in r.content
    r = c.post("/notifications/settings/", {"email_enabled": "on", "email": "", "digest": "daily"})
    assert r.status_code == 200 and b"Enter the address to send e-mail to." in r.content
    r = c.post("/notifications/settings/", {"email": "a\x00b@example.org", "digest": "daily"})
    assert r.status_code == 200 and b"Null characters are not allowed." in r.content
    assert not Preference.objects.exists()
    # a login without a person record is told why there is nothing to choose
    r = english(login(make_user("admin2", is_superuser=True))).get("/notifications/settings/")
    assert r.status_code == 200 and b'id="no-person"' in r.content


def test_team_page_bots_section_add_test_edit_remove(
    org: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    platforms: HttpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    team = Team.objects.get(code="XH-T1")
    manager = english(login(make_user("mgr", "manager", org.xuhui)))
    page = manager.get(f"/teams/{team.pk}/")
    assert b'id="bots"' in page.content and b'id="bot-add"' in page.content
    r = manager.post(
        f"/notifications/teams/{team.pk}/bots/add/",
        {"kind": "wecom", "url": WECOM, "name": "青年群", "verbs": ["roster.published"]},
    )
    assert r.status_code == 302
    bot = TeamBot.objects.get()
    assert bot.verbs == ["roster.published"]
    r = manager.post(
        f"/notifications/teams/{team.pk}/bots/add/", {"kind": "wecom", "url": WECOM, "name": "群\x07"}
    )
    assert r.status_code == 200 and b"control characters" in r.content
    assert TeamBot.objects.count() == 1
    page = manager.get(f"/teams/{team.pk}/").content.decode()
    assert "qyapi.weixin.qq.com/…ABCD" in page and "wk-123" not in page
    with django_capture_on_commit_callbacks(execute=True):
        r = manager.post(f"/notifications/bots/{bot.pk}/test/")
    assert r.status_code == 302 and r["Location"].endswith("#bots")
    [req] = platforms.received
    assert req.original_url == WECOM
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    # a bad address is shown on the form, not a 500
    r = manager.post(f"/notifications/bots/{bot.pk}/edit/", {"url": "https://example.org/x", "name": "x"})
    assert r.status_code == 200 and b"not the address of a group bot" in r.content
    r = manager.post(f"/notifications/bots/{bot.pk}/edit/", {"name": "改名", "is_active": "on"})
    assert r.status_code == 302
    bot.refresh_from_db()
    assert (bot.name, bot.verbs, bot.url) == ("改名", [], WECOM)  # an empty address keeps the old one
    assert manager.post(f"/notifications/bots/{bot.pk}/delete/").status_code == 302
    assert not TeamBot.objects.exists()


def test_team_bots_permissions(
    org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    team = Team.objects.get(code="XH-T1")
    bot = bot_create(actor=SYSTEM, team=team, kind="wecom", url=WECOM)
    member = login(make_user("member", "member", org.xuhui))
    page = member.get(f"/teams/{team.pk}/")
    assert b'id="bots"' in page.content and b'id="bot-add"' not in page.content  # seen, masked, no buttons
    assert member.get(f"/notifications/teams/{team.pk}/bots/add/").status_code == 403
    assert member.post(f"/notifications/bots/{bot.pk}/test/").status_code == 403
    assert member.post(f"/notifications/bots/{bot.pk}/delete/").status_code == 403
    outsider = login(make_user("hp", "manager", org.huangpu))
    assert outsider.get(f"/notifications/teams/{team.pk}/bots/add/").status_code == 404
    for url in ("edit/", "test/", "delete/"):
        assert outsider.post(f"/notifications/bots/{bot.pk}/{url}").status_code == 404
    assert get(outsider, "/teams/XH-T1/bots").status_code == 404
    assert post(outsider, f"/bots/{bot.pk}/test").status_code == 404
    assert TeamBot.objects.filter(pk=bot.pk).exists() and not Delivery.objects.exists()


@pytest.fixture
def log_rows(org: Any, make_user: Callable[..., Any], settings: Any) -> dict[str, Delivery]:
    """One delivery of each scope: e-mail to alice (徐汇) and carol (黄浦), bots of a 徐汇 and a 黄浦 team."""
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    alice_user = make_user("alice")
    link(org.alice, alice_user)
    preference_set(actor=SYSTEM, person=org.alice, email_enabled=True, email="zhangli@example.org")
    preference_set(actor=SYSTEM, person=org.carol, email_enabled=True, email="lina@example.org")
    xh = Team.objects.get(code="XH-T1")
    hp = team_create(actor=SYSTEM, code="HP-T1", name="抗疫急先锋", unit=org.huangpu, kind="member")
    for t in (xh, hp):
        bot_create(actor=SYSTEM, team=t, kind="webhook", url="http://127.0.0.1:9/x", secret="s" * 20)
    notify([(alice_user, org.alice), (None, org.carol)], verb="x", title="个人通知")
    notify([], verb="x", title="队伍通知", teams=[xh, hp])
    rows = {
        "alice": Delivery.objects.get(person=org.alice),
        "carol": Delivery.objects.get(person=org.carol),
        "xh": Delivery.objects.get(team=xh),
        "hp": Delivery.objects.get(team=hp),
    }
    Delivery.objects.update(status=DeliveryStatus.FAILED, attempts=3)
    return rows


def _visible(client: Client) -> set[int]:
    r = get(client, "/deliveries?page_size=500")
    assert r.status_code == 200
    return {d["id"] for d in r.json()["items"]}


def test_delivery_log_is_scoped(
    org: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    log_rows: dict[str, Delivery],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ids = {k: d.pk for k, d in log_rows.items()}
    xh_manager = login(make_user("mgr", "manager", org.xuhui))
    hp_manager = login(make_user("hpm", "manager", org.huangpu))
    xh_member = login(make_user("mem", "member", org.xuhui))
    alice = login(org.alice.user)
    assert _visible(xh_manager) == {ids["alice"], ids["xh"]}
    assert _visible(hp_manager) == {ids["carol"], ids["hp"]}
    assert _visible(alice) == {ids["alice"]}  # her own, though she may change nobody
    assert _visible(xh_member) == set()  # members see the unit, not its deliveries
    page = xh_manager.get("/notifications/deliveries/").content.decode()
    assert "张丽" in page and "李娜" not in page and "抗疫急先锋" not in page
    for out_of_scope in ("carol", "hp"):
        pk = ids[out_of_scope]
        assert xh_manager.post(f"/notifications/deliveries/{pk}/retry/").status_code == 404
        assert post(xh_manager, f"/deliveries/{pk}/retry").status_code == 404
        assert get(xh_manager, f"/deliveries/{pk}").status_code == 404
    assert post(xh_member, f"/deliveries/{ids['alice']}/retry").status_code == 404
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 4  # nothing was retried
    with django_capture_on_commit_callbacks(execute=False):
        r = xh_manager.post(f"/notifications/deliveries/{ids['alice']}/retry/")
    assert r.status_code == 302
    assert Delivery.objects.get(pk=ids["alice"]).status == DeliveryStatus.QUEUED
    for huge in ("99999999999999999999", "9223372036854775808"):
        assert get(xh_manager, f"/deliveries/{huge}").status_code == 404
        assert xh_manager.post(f"/notifications/deliveries/{huge}/retry/").status_code == 404
        assert post(xh_manager, f"/bots/{huge}/test").status_code == 404


def test_person_settings_scope(
    org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    xh_manager = login(make_user("mgr", "manager", org.xuhui))
    viewer = login(make_user("v", "viewer", org.xuhui))
    assert xh_manager.get(f"/notifications/people/{org.alice.pk}/").status_code == 200
    assert xh_manager.get(f"/notifications/people/{org.carol.pk}/").status_code == 404
    assert viewer.get(f"/notifications/people/{org.alice.pk}/").status_code == 403
    assert get(xh_manager, "/people/HP0001/preferences").status_code == 404
    assert get(viewer, "/people/XH0001/preferences").status_code == 403
    r = xh_manager.post(
        f"/notifications/people/{org.bob.pk}/",
        {"email_enabled": "on", "email": "wq@example.org", "digest": "daily"},
    )
    assert r.status_code == 302
    pref = Preference.objects.get(person=org.bob)
    assert (pref.email_enabled, pref.email, pref.digest) == (True, "wq@example.org", "daily")
    assert "wq@example.org" not in pref.email_enc  # encrypted at rest
    event = AuditEvent.objects.get(action="notify.preference.changed")
    assert event.changes["email"] == ["", "w***@example.org"]  # never the full address in the log
    # the patch through the API by the person themselves
    user = make_user("alice")
    link(org.alice, user)
    me = login(user)
    assert get(me, "/preferences").json()["email_enabled"] is False
    r = me.patch(
        "/api/v1/notify/preferences",
        {"email_enabled": True, "email": "zl@example.org"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["email"] == "zl@example.org"
    r = me.patch("/api/v1/notify/preferences", {"email": "no"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"]["email"] == ["Enter a valid e-mail address."]
    nobody = login(make_user("solo"))
    assert get(nobody, "/preferences").status_code == 404


def test_email_test_through_the_api(
    org: Any,
    make_user: Callable[..., Any],
    login: Callable[[Any], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user("alice")
    link(org.alice, user)
    me = login(user)
    r = post(me, "/preferences/test")
    assert r.status_code == 422 and "address" in r.json()["errors"]["email"][0]
    preference_set(actor=SYSTEM, person=org.alice, email_enabled=True, email="zl@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        r = post(me, "/preferences/test")
    assert r.status_code == 202 and r.json()["kind"] == "test"
    [m] = mail.outbox
    assert m.to == ["zl@example.org"] and m.subject == "Muster test message"


def test_openapi_lists_the_notification_paths(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    listed = {(m, p) for p, ops in doc["paths"].items() for m in ops if p.startswith("/api/v1/notify/")}
    assert {(m, p.removeprefix("/api/v1/notify")) for m, p in listed} == {
        ("get", "/preferences"),
        ("patch", "/preferences"),
        ("post", "/preferences/test"),
        ("get", "/people/{code}/preferences"),
        ("patch", "/people/{code}/preferences"),
        ("post", "/people/{code}/preferences/test"),
        ("get", "/kinds"),
        ("get", "/teams/{code}/bots"),
        ("post", "/teams/{code}/bots"),
        ("patch", "/bots/{bot_id}"),
        ("delete", "/bots/{bot_id}"),
        ("post", "/bots/{bot_id}/test"),
        ("get", "/deliveries"),
        ("get", "/deliveries/{delivery_id}"),
        ("post", "/deliveries/{delivery_id}/retry"),
    }
    schemas = doc["components"]["schemas"]
    assert {"NotifyBotIn", "NotifyBotOut", "NotifyDeliveryOut", "NotifyPreferenceIn"} <= set(schemas)
