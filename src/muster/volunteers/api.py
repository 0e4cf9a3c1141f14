"""Volunteers over the API: skills, profiles, shift needs, open shifts and sign-up, call-ups.

Thin: people and shifts are found through ``orgs.access``/``mobilize.queries`` (out of scope = 404);
changes go through ``muster.volunteers.services`` (permissions, audit). ``me`` names the caller's person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from muster.api.common import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    actor,
    required_unit,
)
from muster.mobilize.models import Deployment
from muster.mobilize.queries import deployment_get_or_404, shift_get_or_404
from muster.orgs import access
from muster.orgs.models import Person, Team
from muster.tabular.api import (
    CONFIRM_RESPONSES,
    EXPORT_RESPONSES,
    IMPORT_RESPONSES,
    confirm_endpoint,
    export_endpoint,
    import_endpoint,
)
from muster.volunteers import profile_export, profile_io, queries, services
from muster.volunteers.models import (
    CallUpInvite,
    Preference,
    Qualification,
    ShiftNeed,
    SignUp,
    Skill,
    WeeklyWindow,
)

router = Router(tags=["volunteers"])

READ = {404: ErrorOut}
WRITE = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

Minute = Field(ge=0, le=1440)


def _person(request: HttpRequest, code: str) -> Person:
    user = actor(request)
    if code == "me":
        p = queries.own_person(user)
        if p is None:
            raise Http404
        return p
    return queries.person_get_or_404(user, code)


# ---------------------------------------------------------------- skills


class SkillOut(Schema):
    code: str
    name: str
    is_active: bool
    order: int


class SkillIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=60)
    order: int = Field(0, ge=0, le=32767)
    is_active: bool = True


@router.get("/skills", response=list[SkillOut])
def skill_list(request: HttpRequest) -> Any:
    return list(Skill.objects.all())


@router.post("/skills", response={200: SkillOut, **WRITE})
def skill_save(request: HttpRequest, payload: SkillIn) -> Any:
    return services.skill_save(actor=actor(request), **payload.dict())


# ---------------------------------------------------------------- profiles


class WindowSchema(Schema):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start_minute: int = Field(ge=0, le=1440, description="minutes after 00:00")
    end_minute: int = Field(ge=0, le=1440, description="minutes after 00:00; 1440 = 24:00")


class QualificationSchema(Schema):
    skill: str = Field(max_length=40)
    valid_until: BoundedDate | None = None
    note: str = Field("", max_length=200)


class PreferenceSchema(Schema):
    kind: Literal["kind", "site", "time"]
    value: str = Field(max_length=100)
    wanted: bool = True
    weight: int = Field(1, ge=1, le=10)


class SpanSchema(Schema):
    start: BoundedDate
    end: BoundedDate


class ProfileOut(Schema):
    person: str
    name: str
    available_from: date | None
    available_until: date | None
    max_hours_week: int | None
    no_nights: bool
    windows: list[WindowSchema]
    days_off: list[date]
    home_observation: list[SpanSchema]
    qualifications: list[QualificationSchema]
    preferences: list[PreferenceSchema]
    may_edit: bool


class ProfileIn(Schema):
    available_from: BoundedDate | None = None
    available_until: BoundedDate | None = None
    max_hours_week: int | None = Field(None, ge=1, le=168)
    no_nights: bool = False
    windows: list[WindowSchema] | None = Field(None, max_length=services.MAX_ROWS)
    days_off: list[BoundedDate] | None = Field(None, max_length=services.MAX_ROWS)
    home_observation: list[SpanSchema] | None = Field(None, max_length=services.MAX_ROWS)
    qualifications: list[QualificationSchema] | None = Field(None, max_length=services.MAX_ROWS)
    preferences: list[PreferenceSchema] | None = Field(None, max_length=services.MAX_ROWS)


def profile_out(user: Any, p: Person) -> dict[str, Any]:
    """The profile; home observation, days off and weekly windows only for the person themself or
    someone who may edit their profile (others see them empty)."""
    prof = getattr(p, "volunteer_profile", None)
    may_edit = services.may_edit_person(user, p)
    return {
        "person": p.code,
        "name": p.name,
        "available_from": prof.available_from if prof else None,
        "available_until": prof.available_until if prof else None,
        "max_hours_week": prof.max_hours_week if prof else None,
        "no_nights": prof.no_nights if prof else False,
        "windows": list(WeeklyWindow.objects.filter(person=p).values("weekday", "start_minute", "end_minute"))
        if may_edit
        else [],
        "days_off": list(p.days_off.values_list("day", flat=True)) if may_edit else [],
        "home_observation": list(p.home_observations.values("start", "end")) if may_edit else [],
        "qualifications": [
            {"skill": q.skill.code, "valid_until": q.valid_until, "note": q.note}
            for q in Qualification.objects.filter(person=p).select_related("skill")
        ],
        "preferences": list(Preference.objects.filter(person=p).values("kind", "value", "wanted", "weight")),
        "may_edit": may_edit,
    }


@router.get("/people/{code}/profile", response={200: ProfileOut, **READ})
def profile_get(request: HttpRequest, code: str) -> Any:
    return profile_out(actor(request), _person(request, code))


@router.put("/people/{code}/profile", response={200: ProfileOut, **WRITE})
def profile_put(request: HttpRequest, code: str, payload: ProfileIn) -> Any:
    p = _person(request, code)
    services.profile_set(
        actor=actor(request),
        person=p,
        available_from=payload.available_from,
        available_until=payload.available_until,
        max_hours_week=payload.max_hours_week,
        no_nights=payload.no_nights,
        windows=None
        if payload.windows is None
        else [services.WindowIn(w.weekday, w.start_minute, w.end_minute) for w in payload.windows],
        days_off=payload.days_off,
        home_observation=None
        if payload.home_observation is None
        else [(s.start, s.end) for s in payload.home_observation],
        qualifications=None
        if payload.qualifications is None
        else [services.QualificationIn(q.skill, q.valid_until, q.note) for q in payload.qualifications],
        preferences=None
        if payload.preferences is None
        else [services.PreferenceIn(x.kind, x.value, x.wanted, x.weight) for x in payload.preferences],
    )
    p.refresh_from_db()
    return profile_out(actor(request), p)


# ---------------------------------------------------------------- shift needs


class NeedIn(Schema):
    skills_all: list[str] = Field(default_factory=list, max_length=20)
    skills_any: list[str] = Field(default_factory=list, max_length=20)
    min_party_members: int = Field(0, ge=0, le=32767)
    min_skill: str | None = Field(None, max_length=40)
    min_skill_count: int = Field(0, ge=0, le=32767)


class NeedOut(NeedIn):
    shift: int


def need_out(n: ShiftNeed) -> dict[str, Any]:
    return {
        "shift": n.shift_id,
        "skills_all": [s.code for s in n.skills_all.all()],
        "skills_any": [s.code for s in n.skills_any.all()],
        "min_party_members": n.min_party_members,
        "min_skill": n.min_skill.code if n.min_skill else None,
        "min_skill_count": n.min_skill_count,
    }


@router.put("/shifts/{int:shift_id}/needs", response={200: NeedOut, **WRITE})
def need_put(request: HttpRequest, shift_id: int, payload: NeedIn) -> Any:
    shift = shift_get_or_404(actor(request), pk=shift_id)
    return need_out(services.need_set(actor=actor(request), shift=shift, **payload.dict()))


# ---------------------------------------------------------------- openings and sign-up


class OpenIn(Schema):
    shifts: list[int] = Field(min_length=1, max_length=2000)
    team: str | None = Field(None, max_length=40, description="team code")
    unit: str | None = Field(None, max_length=40, description="unit or party branch code (with its subtree)")
    deadline: BoundedDateTime
    cancel_cutoff: BoundedDateTime


class OpeningOut(Schema):
    id: int
    shift: int
    start: datetime
    end: datetime
    mode: str
    label: str
    seats: int
    taken: int
    deadline: datetime
    cancel_cutoff: datetime
    mine: str = Field(description='"", "seated" or "waiting"')
    fits: bool
    reasons: list[str] = Field(description="why it does not fit (codes)")


@router.post("/openings", response={200: list[int], **WRITE})
def openings_create(request: HttpRequest, payload: OpenIn) -> Any:
    user = actor(request)
    shifts = [shift_get_or_404(user, pk=pk) for pk in dict.fromkeys(payload.shifts)]
    team = None
    if payload.team:
        team = access.scoped(Team.objects.filter(code=payload.team), user).first()
        if team is None:
            raise Http404
    unit = required_unit(user, payload.unit, "unit") if payload.unit else None
    out = services.shifts_open(
        actor=user,
        shifts=shifts,
        team=team,
        unit=unit,
        deadline=payload.deadline,
        cancel_cutoff=payload.cancel_cutoff,
    )
    return [o.pk for o in out]


@router.get("/people/{code}/open-shifts", response={200: list[OpeningOut], **READ})
def open_shifts(
    request: HttpRequest,
    code: str,
    all: bool = False,
    page: int | None = Query(None, ge=1, le=MAX_PAGE, description="1-based page (default: the whole list)"),
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE, description="open shifts per page"),
) -> Any:
    """The open shifts a person may sign up for (``all``: with those that do not fit, and why), in order
    of start; ``page`` gives one page of them (read a chunk at a time: fast with thousands open)."""
    p = _person(request, code)
    if page is None:
        rows = queries.open_shifts(p, only_fitting=not all)
    else:
        rows = queries.open_shifts(p, only_fitting=not all, limit=page_size, offset=(page - 1) * page_size)
    return [
        {
            "id": r.opening_id,
            "shift": r.shift_id,
            "start": r.start,
            "end": r.end,
            "mode": r.mode,
            "label": r.label,
            "seats": r.seats,
            "taken": r.taken,
            "deadline": r.deadline,
            "cancel_cutoff": r.cancel_cutoff,
            "mine": r.mine,
            "fits": r.fits,
            "reasons": [m.code for m in r.misfits] + [b.code for b in r.breaches],
        }
        for r in rows
    ]


class SignUpIn(Schema):
    person: str | None = Field(None, max_length=40, description="staff number; default: yourself")
    wait: bool = Field(False, description="join the waiting list when the shift is full")


class SignUpOut(Schema):
    id: int
    opening: int
    person: str
    status: str
    promoted: str | None = None


@router.post("/openings/{int:opening_id}/signup", response={200: SignUpOut, **WRITE})
def signup(request: HttpRequest, opening_id: int, payload: SignUpIn) -> Any:
    user = actor(request)
    me = queries.own_person(user)
    o = queries.opening_get_or_404(user, opening_id, me=me)
    person = _person(request, payload.person) if payload.person else me
    su = services.signup_create(actor=user, opening=o, person=person, wait=payload.wait)
    return {"id": su.pk, "opening": o.pk, "person": su.person.code, "status": su.status}


@router.post("/signups/{int:signup_id}/cancel", response={200: SignUpOut, **WRITE})
def signup_cancel(request: HttpRequest, signup_id: int) -> Any:
    su = SignUp.objects.select_related("person").filter(pk=signup_id).first()
    if su is None:
        raise Http404
    res = services.signup_cancel(actor=actor(request), signup=su)
    return {
        "id": su.pk,
        "opening": su.opening_id,
        "person": su.person.code,
        "status": res.signup.status,
        "promoted": res.promoted.person.code if res.promoted else None,
    }


# ---------------------------------------------------------------- call-ups


class CallUpIn(Schema):
    unit: str = Field(max_length=40, description="the calling unit")
    title: str = Field(max_length=200)
    place: str = Field("", max_length=200)
    skills: list[str] = Field(default_factory=list, max_length=20)
    start: BoundedDateTime
    end: BoundedDateTime
    people_needed: int = Field(ge=1, le=services.MAX_CALLUP)
    deadline: BoundedDateTime
    team: str | None = Field(None, max_length=40)
    audience_unit: str | None = Field(None, max_length=40, description="unit or party branch called")
    deployment: str | None = Field(None, max_length=40, description="the batch the picked join")


class AnswerOut(Schema):
    person: str
    name: str
    answer: str
    reason: str
    answered_at: datetime | None
    picked: bool


class CallUpOut(Schema):
    code: str
    title: str
    place: str
    start: datetime
    end: datetime
    people_needed: int
    deadline: datetime
    deployment: str | None
    invited: int
    answered: int
    yes: int
    no: int
    picked: int
    response_rate: float
    minutes_to_fill: int | None
    answers: list[AnswerOut]


def callup_out(c: Any, *, answers: bool = True) -> dict[str, Any]:
    f = queries.callup_figures(c)
    rows = (
        CallUpInvite.objects.filter(callup=c).exclude(answer="").select_related("person")[:2000]
        if answers
        else []
    )
    return {
        "code": c.code,
        "title": c.title,
        "place": c.place,
        "start": c.start,
        "end": c.end,
        "people_needed": c.people_needed,
        "deadline": c.deadline,
        "deployment": c.deployment.code if c.deployment_id else None,
        **f.__dict__,
        "answers": [
            {
                "person": i.person.code,
                "name": i.person.name,
                "answer": i.answer,
                "reason": i.reason,
                "answered_at": i.answered_at,
                "picked": i.picked,
            }
            for i in rows
        ],
    }


@router.post("/callups", response={200: CallUpOut, **WRITE})
def callup_create(request: HttpRequest, payload: CallUpIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    team = None
    if payload.team:
        team = access.scoped(Team.objects.filter(code=payload.team), user).first()
        if team is None:
            raise Http404
    audience = required_unit(user, payload.audience_unit, "audience_unit") if payload.audience_unit else None
    d: Deployment | None = (
        deployment_get_or_404(user, code=payload.deployment) if payload.deployment else None
    )
    c = services.callup_create(
        actor=user,
        unit=unit,
        title=payload.title,
        place=payload.place,
        skills=payload.skills,
        start=payload.start,
        end=payload.end,
        people_needed=payload.people_needed,
        deadline=payload.deadline,
        team=team,
        audience_unit=audience,
        deployment=d,
    )
    return callup_out(c)


@router.get("/callups/{code}", response={200: CallUpOut, **READ})
def callup_get(request: HttpRequest, code: str) -> Any:
    return callup_out(queries.callup_get_or_404(actor(request), code))


class AnswerIn(Schema):
    answer: Literal["yes", "no"]
    reason: str = Field("", max_length=300)
    person: str | None = Field(None, max_length=40, description="staff number; default: yourself")


@router.post("/callups/{code}/answer", response={200: AnswerOut, **WRITE})
def callup_answer(request: HttpRequest, code: str, payload: AnswerIn) -> Any:
    user = actor(request)
    person = _person(request, payload.person or "me")
    inv = CallUpInvite.objects.filter(callup__code=code, person=person).select_related("person").first()
    if inv is None:
        raise Http404
    inv = services.callup_answer(actor=user, invite=inv, answer=payload.answer, reason=payload.reason)
    return {
        "person": person.code,
        "name": person.name,
        "answer": inv.answer,
        "reason": inv.reason,
        "answered_at": inv.answered_at,
        "picked": inv.picked,
    }


class PickIn(Schema):
    people: list[str] = Field(default_factory=list, max_length=services.MAX_CALLUP)
    engine: bool = Field(False, description="let the rostering engine pick from the yes answers")
    deployment: str | None = Field(None, max_length=40)


@router.post("/callups/{code}/pick", response={200: CallUpOut, **WRITE})
def callup_pick(request: HttpRequest, code: str, payload: PickIn) -> Any:
    user = actor(request)
    c = queries.callup_get_or_404(user, code)
    d = deployment_get_or_404(user, code=payload.deployment) if payload.deployment else None
    if payload.engine:
        people = services.callup_suggest(c)
    else:
        people = [queries.person_get_or_404(user, p) for p in dict.fromkeys(payload.people)]
    services.callup_pick(actor=user, callup=c, people=people, deployment=d)
    c.refresh_from_db()
    return callup_out(c)


# ---------------------------------------------------------------- profiles in and out of spreadsheets
# The import pipeline's views (``muster.tabular.api``): the same file as ``muster volunteers import`` and
# the page /import/volunteers/ — all or nothing; a dry run answers a confirm token.


def _export_unit(user: Any, code: str | None) -> Any:
    return required_unit(user, code, "unit") if code else None


router.get(
    "/export",
    response=EXPORT_RESPONSES,
    summary="Export volunteer profiles (.xlsx: every sheet; .csv: the sheet named) in the import's layout",
    operation_id="muster_volunteers_api_export",
)(
    export_endpoint(
        name="export_volunteers",
        export=profile_export.volunteer_export,
        resolve_unit=_export_unit,
        sheets=profile_export.SHEETS,
        default_sheet="volunteers",
    )
)
router.post(
    "/import",
    response=IMPORT_RESPONSES,
    summary="Import volunteer profiles (skills, availability, preferences, limits, home observation)",
    operation_id="muster_volunteers_api_import",
)(
    import_endpoint(
        name="import_volunteers",
        key="volunteers",
        run=profile_io.volunteer_import,
        require=profile_io.require,
    )
)
router.post(
    "/import/confirm",
    response=CONFIRM_RESPONSES,
    summary="Import the volunteer-profile file a passing dry run checked (by its confirm_token)",
    operation_id="muster_volunteers_api_import_confirm",
)(
    confirm_endpoint(
        name="confirm_volunteers",
        key="volunteers",
        run=profile_io.volunteer_import,
        require=profile_io.require,
    )
)
