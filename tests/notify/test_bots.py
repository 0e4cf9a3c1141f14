"""Group bots and the signed webhook: the exact request each kind sends, through the HTTP sink.

WeCom, DingTalk and Feishu bots live on fixed public hosts that apprise's plugins hard-code, so their
posts are redirected at ``requests.post`` to the local sink (``platforms``), which records the address they
were meant for; the signed webhook posts to the sink's own address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from muster.audit.models import AuditEvent
from muster.notify.models import Delivery, DeliveryStatus, TeamBot
from muster.notify.services import notify
from muster.orgs.models import Team

from .helpers import get, patch, post
from .sinks import HttpSink

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-123_ABCD"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=dt0123456789abcdef"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/fs-0a1b2c3d-4e5f"
TEST_TEXT = "This is a test message from Muster. If you can read it, notifications through this channel work."


@pytest.fixture
def manager(org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]) -> Client:
    return login(make_user("mgr", "manager", org.xuhui))


def _add(client: Client, **payload: Any) -> dict[str, Any]:
    r = post(client, "/teams/XH-T1/bots", payload)
    assert r.status_code == 201, r.content
    return r.json()


def _test(client: Client, bot_id: int, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        r = post(client, f"/bots/{bot_id}/test")
    assert r.status_code == 202, r.content
    d = get(client, f"/deliveries/{r.json()['id']}")
    assert d.status_code == 200
    return d.json()


def test_wecom_bot(manager: Client, platforms: HttpSink, django_capture_on_commit_callbacks: Any) -> None:
    bot = _add(manager, kind="wecom", url=WECOM, name="青年突击队群")
    assert bot["url"] == "qyapi.weixin.qq.com/…ABCD" and not bot["has_secret"]
    stored = TeamBot.objects.get(pk=bot["id"])
    assert "wk-123" not in stored.url_enc  # encrypted at rest
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] == "sent" and d["attempts"] == 1 and d["channel"] == "wecom"
    [req] = platforms.received
    assert req.original_url == WECOM
    assert req.json() == {"msgtype": "text", "text": {"content": f"Muster test message\r\n{TEST_TEXT}"}}


def test_dingtalk_bot_signs_once_encoded(
    manager: Client, platforms: HttpSink, django_capture_on_commit_callbacks: Any
) -> None:
    secret = "SEC0123456789abcdef0123456789abcdef"
    bot = _add(manager, kind="dingtalk", url=DINGTALK, secret=secret)
    assert bot["has_secret"] and secret not in json.dumps(bot)
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] == "sent"
    [req] = platforms.received
    assert urlsplit(req.original_url).path == "/robot/send"
    query = req.query
    assert query["access_token"] == ["dt0123456789abcdef"]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    # DingTalk decodes the query once: the signature must arrive as the base64 text itself
    assert query["sign"] == [expected]
    body = req.json()
    assert body["msgtype"] == "text"
    assert body["text"] == {"content": f"Muster test message\r\n{TEST_TEXT}"}


def test_feishu_bot_plain_and_signed(
    manager: Client, platforms: HttpSink, django_capture_on_commit_callbacks: Any
) -> None:
    plain = _add(manager, kind="feishu", url=FEISHU)
    assert _test(manager, plain["id"], django_capture_on_commit_callbacks)["status"] == "sent"
    signed = _add(manager, kind="feishu", url=FEISHU, secret="fs-secret-9876")
    assert _test(manager, signed["id"], django_capture_on_commit_callbacks)["status"] == "sent"
    first, second = platforms.received
    assert first.original_url == FEISHU + "/"  # apprise's form of the address
    assert first.json() == {"msg_type": "text", "content": {"text": f"Muster test message\r\n{TEST_TEXT}"}}
    assert second.original_url == FEISHU
    body = second.json()
    key = f"{body['timestamp']}\nfs-secret-9876".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text"
    assert body["content"] == {"text": f"Muster test message\n{TEST_TEXT}"}


def test_signed_webhook(
    manager: Client, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    secret = "a-shared-secret-of-32-characters"
    bot = _add(manager, kind="webhook", url=f"{http_sink.url}/hooks/muster", secret=secret)
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] == "sent"
    [req] = http_sink.received
    assert req.path == "/hooks/muster"
    signature = "sha256=" + hmac.new(secret.encode(), req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-muster-signature"] == signature
    assert req.headers["x-muster-event"] == "notify.test"
    assert req.headers["content-type"].startswith("application/json")
    body = req.json()
    assert body["id"] == d["id"] and body["team"] == "XH-T1" and body["event"] == "notify.test"
    assert body["title"] == "Muster test message" and body["text"] == TEST_TEXT
    # a receiver that checks the signature rejects a body changed on the way
    assert hmac.new(b"another secret", req.body, hashlib.sha256).hexdigest() not in signature


def test_members_and_team_notices_reach_the_subscribed_bots(
    org: Any, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any, manager: Client
) -> None:
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    subscribed = _add(
        manager, kind="webhook", url=f"{http_sink.url}/a", secret="s" * 20, verbs=["roster.published"]
    )
    _add(manager, kind="webhook", url=f"{http_sink.url}/b", secret="t" * 20)
    team = Team.objects.get(code="XH-T1")
    with django_capture_on_commit_callbacks(execute=True):
        # alice is a member of XH-T1: her roster notice goes to the bot that subscribes to the kind
        notify([(None, org.alice)], verb="roster.published", title="排班已变更", body="新：3月4日 08:00")
        notify([(None, org.bob)], verb="roster.published", title="不是队员")  # bob is not a member
        notify([], verb="team.news", title="全队集合", teams=[team])  # a team notice: every bot
    paths = sorted((r.path, r.json()["title"]) for r in http_sink.received)
    assert paths == [("/a", "全队集合"), ("/a", "张丽: 排班已变更"), ("/b", "全队集合")]
    member = next(r for r in http_sink.received if r.json()["title"] == "张丽: 排班已变更").json()
    assert member["event"] == "roster.published"
    assert member["text"] == "新：3月4日 08:00"
    assert Delivery.objects.filter(bot_id=subscribed["id"], status=DeliveryStatus.SENT).count() == 2


def test_bot_settings_are_audited_and_secrets_never_shown(
    org: Any, manager: Client, django_capture_on_commit_callbacks: Any
) -> None:
    bot = _add(manager, kind="dingtalk", url=DINGTALK, secret="SECabc123", name="群1")
    r = patch(manager, f"/bots/{bot['id']}", {"name": "群2", "secret": "", "verbs": ["roster.published"]})
    assert r.status_code == 200
    assert r.json()["has_secret"] is False and r.json()["name"] == "群2"
    listed = get(manager, "/teams/XH-T1/bots").json()
    assert [b["id"] for b in listed] == [bot["id"]]
    text = json.dumps(listed) + json.dumps(r.json())
    assert "dt0123456789abcdef" not in text and "SECabc123" not in text
    events = list(AuditEvent.objects.filter(action__startswith="notify.bot").order_by("id"))
    assert [e.action for e in events] == ["notify.bot.created", "notify.bot.updated"]
    assert events[1].changes["name"] == ["群1", "群2"] and events[1].changes["secret"] == [True, False]
    assert "SECabc123" not in json.dumps([e.changes for e in events])
    assert post(manager, f"/bots/{bot['id']}/test").status_code == 202
    assert AuditEvent.objects.filter(action="notify.test.sent").count() == 1
    assert manager.delete(f"/api/v1/notify/bots/{bot['id']}").status_code == 204
    assert AuditEvent.objects.filter(action="notify.bot.deleted").count() == 1


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"kind": "wecom", "url": "https://example.org/send?key=abc"},
            "url",
            "not the address of a group bot",
        ),
        ({"kind": "wecom", "url": WECOM, "secret": "abc"}, "secret", "no signing secret"),
        ({"kind": "dingtalk", "url": DINGTALK, "secret": "SEC 12"}, "secret", "copy it again"),
        ({"kind": "webhook", "url": "https://hooks.example.org/x"}, "secret", "shared secret"),
        ({"kind": "webhook", "url": "ftp://hooks.example.org/x", "secret": "s" * 20}, "url", "http://"),
        ({"kind": "webhook", "url": "http://127.0.0.1:8000/admin", "secret": "s" * 20}, "url", "private"),
        ({"kind": "webhook", "url": "http://169.254.169.254/latest", "secret": "s" * 20}, "url", "private"),
        ({"kind": "webhook", "url": "http://localhost/x", "secret": "s" * 20}, "url", "private"),
        # (refused before the service by the API's own input check, or by the service's)
        ({"kind": "wecom", "url": WECOM, "name": "群\ud800"}, "name", ""),
        ({"kind": "wecom", "url": WECOM, "name": "群\x00"}, "name", ""),
        ({"kind": "wecom", "url": WECOM, "verbs": ["nope"]}, "verbs", "Unknown notice kind"),
    ],
)
def test_bad_bot_input_is_a_clear_422(
    manager: Client, payload: dict[str, Any], field: str, message: str
) -> None:
    r = manager.post(
        "/api/v1/notify/teams/XH-T1/bots",
        json.dumps(payload),
        content_type="application/json",
    )
    assert r.status_code == 422, r.content
    assert r.json()["errors"][field]
    assert message in " ".join(r.json()["errors"][field])
    assert not TeamBot.objects.exists()


def test_webhook_refused_at_send_time_when_it_points_inside(
    manager: Client, http_sink: HttpSink, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """An address saved while private addresses were allowed (or a name that now resolves inside) is
    refused when the message goes out, and nothing reaches it."""
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    bot = _add(manager, kind="webhook", url=f"{http_sink.url}/x", secret="s" * 20)
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = False
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] == "failed"
    assert "private network" in d["last_error"]
    assert http_sink.received == []


def test_a_name_that_rebinds_to_an_inside_address_after_the_check_is_refused_on_connect(
    manager: Client,
    http_sink: HttpSink,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """DNS rebinding: the name answers with a public address when it is checked and with the server's
    own address when the connection is made. The connection's peer is checked, so nothing arrives."""
    import socket

    port = urlsplit(http_sink.url).port
    real = socket.getaddrinfo
    answers = iter([("93.184.216.34", port)])  # the check sees a public address, once

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.example.org":
            addr = next(answers, ("127.0.0.1", port))
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", addr)]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = False
    bot = _add(manager, kind="webhook", url=f"http://hooks.example.org:{port}/x", secret="s" * 20)
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] == "failed"
    assert "private network" in d["last_error"]
    assert http_sink.received == []


def test_a_failed_webhook_keeps_its_address_out_of_the_log(
    manager: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The path and query of a bot's address are its credentials: an error message does not keep them."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.MUSTER_NOTIFY_ALLOW_PRIVATE_WEBHOOKS = True
    bot = _add(manager, kind="webhook", url=f"http://127.0.0.1:{port}/hook/TOKEN123?key=abc", secret="s" * 20)
    d = _test(manager, bot["id"], django_capture_on_commit_callbacks)
    assert d["status"] in ("retrying", "failed")
    assert d["last_error"]
    assert "TOKEN123" not in d["last_error"] and "key=abc" not in d["last_error"]
    assert all("TOKEN123" not in (x.last_error or "") for x in Delivery.objects.all())
