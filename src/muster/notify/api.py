"""Notification channels over the API: a person's choices, team bots, test messages, the delivery log.

Thin: objects are found through ``muster.orgs.access`` and ``muster.notify.queries`` (out of scope = 404),
changes go through ``muster.notify.services`` (permission, audit). Bot addresses and secrets are never
returned: an address only masked, a secret only as "set or not".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from muster.api.common import ErrorOut, PageParams, actor, paginate
from muster.notify import queries, senders, services
from muster.notify.models import Delivery, Digest, Preference, TeamBot
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Person, Team

router = Router(tags=["notifications"])

NOT_FOUND = {404: ErrorOut}
WRITE_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

ChannelName = Literal["email", "wecom", "dingtalk", "feishu", "webhook"]  # models.CHANNEL_CHOICES


class NotifyPreferenceOut(Schema):
    person: str = Field(description="staff number")
    email_enabled: bool
    email: str = Field(description="the address (shown to the person and to users who may change them)")
    digest: Literal["immediate", "daily"]
    email_configured: bool = Field(description="whether this server can send e-mail at all")


class NotifyPreferenceIn(Schema):
    email_enabled: bool | None = None
    email: str | None = Field(None, max_length=254)
    digest: Literal["immediate", "daily"] | None = None


class NotifyBotOut(Schema):
    id: int
    team: str = Field(description="team code")
    kind: Literal["wecom", "dingtalk", "feishu", "webhook"]
    kind_label: str
    name: str
    url: str = Field(description="the address, masked (it carries the bot's token)")
    has_secret: bool
    verbs: list[str]
    is_active: bool


class NotifyBotIn(Schema):
    kind: Literal["wecom", "dingtalk", "feishu", "webhook"]
    url: str = Field(max_length=1000, description="the bot's webhook address as the platform shows it")
    secret: str = Field("", max_length=200, description="DingTalk/Feishu signing secret; webhook: required")
    name: str = Field("", max_length=60)
    verbs: list[str] = Field(default_factory=list, description="members' notice kinds also sent (see /kinds)")


class NotifyBotPatch(Schema):
    url: str | None = Field(None, max_length=1000)
    secret: str | None = Field(None, max_length=200, description='"" removes the secret')
    name: str | None = Field(None, max_length=60)
    verbs: list[str] | None = None
    is_active: bool | None = None


class NotifyDeliveryOut(Schema):
    id: int
    kind: Literal["notice", "digest", "test"]
    channel: ChannelName
    channel_label: str
    title: str
    target: str = Field(description="masked")
    person: str | None = Field(None, description="staff number (e-mail deliveries)")
    team: str | None = Field(None, description="team code (bot deliveries)")
    status: Literal["queued", "sending", "sent", "retrying", "failed"]
    status_label: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


class NotifyDeliveryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[NotifyDeliveryOut]


class NotifyDeliveryFilters(Schema):
    status: Literal["queued", "sending", "sent", "retrying", "failed"] | None = None
    channel: ChannelName | None = None


class NotifyKindOut(Schema):
    verb: str
    label: str


def _pref_out(person: Person, pref: Preference) -> dict[str, Any]:
    return {
        "person": person.code,
        "email_enabled": pref.email_enabled,
        "email": pref.email,
        "digest": pref.digest or Digest.IMMEDIATE,
        "email_configured": senders.email_configured(),
    }


def _bot_out(bot: TeamBot) -> dict[str, Any]:
    return {
        "id": bot.pk,
        "team": bot.team.code,
        "kind": bot.kind,
        "kind_label": str(bot.get_kind_display()),
        "name": bot.name,
        "url": bot.url_masked,
        "has_secret": bot.has_secret,
        "verbs": list(bot.verbs or []),
        "is_active": bot.is_active,
    }


def _delivery_out(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "kind": d.kind,
        "channel": d.channel,
        "channel_label": str(d.get_channel_display()),
        "title": d.title,
        "target": d.target,
        "person": d.person.code if d.person_id and d.person else None,
        "team": d.team.code if d.team_id and d.team else None,
        "status": d.status,
        "status_label": str(d.get_status_display()),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "created_at": d.created_at,
        "sent_at": d.sent_at,
    }


def _own_person(user: Any) -> Person:
    person = Person.objects.select_related("unit").filter(user_id=user.pk).first() if user.pk else None
    if person is None:
        raise Http404(_("Your login is not linked to a person record."))
    return person


def _person(user: Any, code: str) -> Person:
    person = access.get_scoped_or_404(Person.objects.select_related("unit", "party_unit"), user, code=code)
    if person.user_id != user.pk:
        access.require(user, Perm.CHANGE, person)
    return person


def _set(user: Any, person: Person, payload: NotifyPreferenceIn) -> dict[str, Any]:
    pref = services.preference_set(actor=user, person=person, **payload.model_dump(exclude_unset=True))
    return _pref_out(person, pref)


def _fresh(d: Delivery) -> dict[str, Any]:
    d.refresh_from_db()
    return _delivery_out(d)


# ================================================================ a person's choices


@router.get("/preferences", response={200: NotifyPreferenceOut, **NOT_FOUND}, summary="My channel choices")
def get_my_preferences(request: HttpRequest) -> dict[str, Any]:
    person = _own_person(actor(request))
    return _pref_out(person, services.preference_of(person))


@router.patch(
    "/preferences", response={200: NotifyPreferenceOut, **WRITE_ERRORS}, summary="Change my choices"
)
def set_my_preferences(request: HttpRequest, payload: NotifyPreferenceIn) -> dict[str, Any]:
    user = actor(request)
    return _set(user, _own_person(user), payload)


@router.post(
    "/preferences/test", response={202: NotifyDeliveryOut, **WRITE_ERRORS}, summary="Send me a test e-mail"
)
def test_my_email(request: HttpRequest) -> Status:
    user = actor(request)
    return Status(202, _fresh(services.email_test(actor=user, person=_own_person(user))))


@router.get(
    "/people/{code}/preferences",
    response={200: NotifyPreferenceOut, **WRITE_ERRORS},
    summary="A person's channel choices (the person, or a user who may change them)",
)
def get_preferences(request: HttpRequest, code: str) -> dict[str, Any]:
    person = _person(actor(request), code)
    return _pref_out(person, services.preference_of(person))


@router.patch(
    "/people/{code}/preferences", response={200: NotifyPreferenceOut, **WRITE_ERRORS}, summary="Change them"
)
def set_preferences(request: HttpRequest, code: str, payload: NotifyPreferenceIn) -> dict[str, Any]:
    user = actor(request)
    return _set(user, _person(user, code), payload)


@router.post(
    "/people/{code}/preferences/test",
    response={202: NotifyDeliveryOut, **WRITE_ERRORS},
    summary="Send a test e-mail to a person",
)
def test_email(request: HttpRequest, code: str) -> Status:
    user = actor(request)
    return Status(202, _fresh(services.email_test(actor=user, person=_person(user, code))))


# ================================================================ team bots


@router.get("/kinds", response=list[NotifyKindOut], summary="Notice kinds a team's bot may subscribe to")
def list_kinds(request: HttpRequest) -> list[dict[str, str]]:
    return [{"verb": v, "label": str(label)} for v, label in services.NOTICE_KINDS.items()]


def _team(user: Any, code: str) -> Team:
    return access.get_scoped_or_404(Team.objects.select_related("unit"), user, code=code)


@router.get("/teams/{code}/bots", response={200: list[NotifyBotOut], **NOT_FOUND}, summary="A team's bots")
def list_bots(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    user = actor(request)
    team = _team(user, code)
    return [_bot_out(b) for b in queries.bots(user).filter(team=team)]


@router.post("/teams/{code}/bots", response={201: NotifyBotOut, **WRITE_ERRORS}, summary="Add a group bot")
def create_bot(request: HttpRequest, code: str, payload: NotifyBotIn) -> Status:
    user = actor(request)
    bot = services.bot_create(actor=user, team=_team(user, code), **payload.model_dump())
    return Status(201, _bot_out(bot))


@router.patch("/bots/{bot_id}", response={200: NotifyBotOut, **WRITE_ERRORS}, summary="Change a group bot")
def update_bot(request: HttpRequest, bot_id: int, payload: NotifyBotPatch) -> dict[str, Any]:
    user = actor(request)
    bot = services.bot_update(
        actor=user, bot=queries.bot_or_404(user, bot_id), **payload.model_dump(exclude_unset=True)
    )
    return _bot_out(bot)


@router.delete("/bots/{bot_id}", response={204: None, **WRITE_ERRORS}, summary="Remove a group bot")
def delete_bot(request: HttpRequest, bot_id: int) -> Status:
    user = actor(request)
    services.bot_delete(actor=user, bot=queries.bot_or_404(user, bot_id))
    return Status(204, None)


@router.post(
    "/bots/{bot_id}/test", response={202: NotifyDeliveryOut, **WRITE_ERRORS}, summary="Send a test message"
)
def test_bot(request: HttpRequest, bot_id: int) -> Status:
    user = actor(request)
    return Status(202, _fresh(services.bot_test(actor=user, bot=queries.bot_or_404(user, bot_id))))


# ================================================================ the delivery log


@router.get("/deliveries", response=NotifyDeliveryPage, summary="The delivery log (what the user may see)")
def list_deliveries(
    request: HttpRequest, filters: Query[NotifyDeliveryFilters], page: Query[PageParams]
) -> dict[str, Any]:
    qs = queries.deliveries(actor(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    items, meta = paginate(qs, page)
    return {**meta, "items": [_delivery_out(d) for d in items]}


@router.get("/deliveries/{delivery_id}", response={200: NotifyDeliveryOut, **NOT_FOUND}, summary="A delivery")
def get_delivery(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    return _delivery_out(queries.delivery_or_404(actor(request), delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    response={200: NotifyDeliveryOut, **WRITE_ERRORS},
    summary="Send a failed delivery again",
)
def retry_delivery(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    user = actor(request)
    d = services.delivery_retry(actor=user, delivery=queries.delivery_or_404(user, delivery_id))
    return _fresh(d)
