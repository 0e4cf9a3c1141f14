"""The rules a person taking a shift must meet — one set for every way onto a shift.

The manual assignment (``services.shift_assign``), a volunteer's sign-up (``services.shift_take``, called
by the volunteers app) and the list of open shifts that fit a person all judge with :func:`judge`:

- ``full``: every seat is taken;
- ``conflict``: the shift overlaps another shift or batch of the person;
- ``rest``: less than the minimum rest (``settings.MUSTER_MIN_REST_MINUTES``) before or after another one;
- ``week``: the person's shifts of that calendar week (Monday to Sunday, local time) would exceed their
  weekly limit.

``full`` and ``conflict`` always refuse. A coordinator assigning by hand is *warned* of a short rest
(and has no weekly limit); a sign-up (``strict``) is refused for both.

:func:`judge` is pure (it sees only the commitments it is given), so a listing judges thousands of
shifts against commitments loaded once by :func:`commitments_of`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import clock
from muster.mobilize.models import Assignment, Deployment, DeploymentMember, DeploymentStatus, Post, Shift
from muster.orgs import access

HARD = frozenset({"full", "conflict"})
STRICT = frozenset({"full", "conflict", "rest", "week"})


def min_rest_minutes() -> int:
    return int(getattr(settings, "MUSTER_MIN_REST_MINUTES", 480))


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _fmt(dt: datetime) -> str:
    return timezone.localtime(dt, _tz()).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Commitment:
    """Something a person already does: a shift (``shift_id``) or a batch membership (``shift_id`` None)."""

    name: str
    start: datetime
    end: datetime
    shift_id: int | None
    deployment_id: int | None


@dataclass(frozen=True)
class Breach:
    code: str  # full, conflict, rest, week
    message: str
    other: str = ""
    gap_minutes: int = 0


def shift_name(s: Shift) -> str:
    owner = s.deployment.code if s.deployment is not None else (s.post.name if s.post is not None else "")
    return _("shift %(label)s of %(owner)s, %(start)s–%(end)s") % {
        "label": s.label or s.pk,
        "owner": owner,
        "start": _fmt(s.start),
        "end": _fmt(s.end),
    }


def _deployment_name(code: str, title: str, start: datetime, end: datetime) -> str:
    return _("batch %(code)s (%(title)s), %(start)s–%(end)s") % {
        "code": code,
        "title": title,
        "start": _fmt(start),
        "end": _fmt(end),
    }


def _other_shift_name(start: datetime, end: datetime) -> str:
    return _("another shift, %(start)s–%(end)s") % {"start": _fmt(start), "end": _fmt(end)}


def _other_deployment_name(start: datetime, end: datetime) -> str:
    return _("another batch, %(start)s–%(end)s") % {"start": _fmt(start), "end": _fmt(end)}


def _visible(viewer: Any, deployment_ids: set[int], post_ids: set[int]) -> tuple[set[int], set[int]]:
    """The batches and posts among these that ``viewer`` may see (in scope, or a batch they are on)."""
    batches: set[int] = set()
    if deployment_ids:
        batches = set(
            access.scoped(Deployment.objects.filter(pk__in=deployment_ids), viewer).values_list(
                "pk", flat=True
            )
        )
        if getattr(viewer, "pk", None) is not None and batches != deployment_ids:
            batches |= set(
                DeploymentMember.objects.filter(
                    deployment_id__in=deployment_ids - batches, person__user_id=viewer.pk
                ).values_list("deployment_id", flat=True)
            )
    posts: set[int] = set()
    if post_ids:
        posts = set(access.scoped(Post.objects.filter(pk__in=post_ids), viewer).values_list("pk", flat=True))
    return batches, posts


def week_bounds(moment: datetime, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The local calendar week (Monday 00:00 to the next Monday 00:00) holding ``moment``."""
    tz = tz or _tz()
    day = moment.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    lo = datetime.combine(monday, time(0), tzinfo=tz)
    return lo, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)


def window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span whose commitments :func:`judge` needs for a shift ``[start, end)``."""
    rest = timedelta(minutes=min_rest_minutes())
    w_lo, _w_hi = week_bounds(start)
    _e_lo, w_hi = week_bounds(end)
    return min(start - rest, w_lo), max(end + rest, w_hi)


def commitments_of(
    person_ids: Iterable[int], lo: datetime, hi: datetime, *, viewer: Any = None
) -> dict[int, list[Commitment]]:
    """Each person's shifts and active batches touching ``[lo, hi)`` (cancelled batches left out).

    With a ``viewer``, a batch or post the viewer may not see is named neutrally ("another batch,
    09:00–17:00"), so a refusal shown to them tells nothing of it; without one, every name is given."""
    ids = list(person_ids)
    out: dict[int, list[Commitment]] = defaultdict(list)
    rows = list(
        Assignment.objects.filter(person_id__in=ids, shift__start__lt=hi, shift__end__gt=lo)
        .exclude(shift__deployment__status=DeploymentStatus.CANCELLED)
        .select_related("shift", "shift__deployment", "shift__post")
        .order_by("shift__start", "shift_id")
    )
    members = list(
        DeploymentMember.objects.filter(
            person_id__in=ids,
            deployment__start__lt=hi,
            deployment__end__gt=lo,
            deployment__status=DeploymentStatus.ACTIVE,
        )
        .order_by("deployment__start", "deployment_id")
        .values_list(
            "person_id",
            "deployment_id",
            "deployment__code",
            "deployment__title",
            "deployment__start",
            "deployment__end",
        )
    )
    seen_batches: set[int] | None = None
    seen_posts: set[int] = set()
    if viewer is not None:
        seen_batches, seen_posts = _visible(
            viewer,
            {a.shift.deployment_id for a in rows if a.shift.deployment_id is not None}
            | {row[1] for row in members},
            {a.shift.post_id for a in rows if a.shift.deployment_id is None and a.shift.post_id is not None},
        )
    for a in rows:
        s = a.shift
        shown = (
            seen_batches is None
            or (s.deployment_id is not None and s.deployment_id in seen_batches)
            or (s.deployment_id is None and s.post_id in seen_posts)
        )
        name = shift_name(s) if shown else _other_shift_name(s.start, s.end)
        out[a.person_id].append(Commitment(name, s.start, s.end, s.pk, s.deployment_id))
    for pid, did, code, title, d_start, d_end in members:
        if seen_batches is None or did in seen_batches:
            name = _deployment_name(code, title, d_start, d_end)
        else:
            name = _other_deployment_name(d_start, d_end)
        out[pid].append(Commitment(name, d_start, d_end, None, did))
    return out


def judge(
    *,
    who: str,
    start: datetime,
    end: datetime,
    commitments: Iterable[Commitment],
    shift_id: int | None = None,
    deployment_id: int | None = None,
    seats: int | None = None,
    taken: int = 0,
    rest_minutes: int | None = None,
    week_limit_minutes: int | None = None,
) -> list[Breach]:
    """Every rule broken by ``who`` taking ``[start, end)`` — as shift ``shift_id`` (of batch
    ``deployment_id``), or as a member of batch ``deployment_id`` (``shift_id`` None). Pure."""
    rest = min_rest_minutes() if rest_minutes is None else rest_minutes
    out: list[Breach] = []
    if seats is not None and taken >= seats:
        out.append(Breach("full", _("All %(n)s seats are taken.") % {"n": seats}))
    week_lo, week_hi = week_bounds(start)
    week_minutes = clock.minutes_between(start, end)
    for c in commitments:
        if shift_id is not None and c.shift_id == shift_id:
            continue
        if c.shift_id is None and deployment_id is not None and c.deployment_id == deployment_id:
            continue  # the shift's own batch
        if shift_id is None and deployment_id is not None and c.deployment_id == deployment_id:
            continue  # a batch and its own shifts
        if c.shift_id is not None and c.start < week_hi and c.start >= week_lo:
            week_minutes += clock.minutes_between(c.start, c.end)
        if clock.overlaps(start, end, c.start, c.end):
            out.append(
                Breach(
                    "conflict",
                    _("%(person)s is already on %(other)s.") % {"person": who, "other": c.name},
                    c.name,
                )
            )
            continue
        gap = clock.gap_minutes(start, end, c.start, c.end)
        if gap < rest:
            out.append(
                Breach(
                    "rest",
                    _("%(person)s has only %(hours)s hours of rest before or after %(other)s.")
                    % {"person": who, "hours": clock.minutes_to_hours(gap), "other": c.name},
                    c.name,
                    gap,
                )
            )
    if week_limit_minutes is not None and week_minutes > week_limit_minutes:
        out.append(
            Breach(
                "week",
                _("%(person)s would serve %(hours)s hours in the week of %(day)s; the limit is %(limit)s.")
                % {
                    "person": who,
                    "hours": clock.minutes_to_hours(week_minutes),
                    "day": week_lo.date().isoformat(),
                    "limit": clock.minutes_to_hours(week_limit_minutes),
                },
            )
        )
    return out


def person_shift_breaches(
    *, person_id: int, who: str, shift: Shift, taken: int | None = None, week_limit_minutes: int | None = None
) -> list[Breach]:
    """:func:`judge` for one person and one shift, loading what it needs (``taken`` None: counted)."""
    lo, hi = window(shift.start, shift.end)
    mine = commitments_of([person_id], lo, hi).get(person_id, [])
    if taken is None:
        taken = Assignment.objects.filter(shift_id=shift.pk).exclude(person_id=person_id).count()
    return judge(
        who=who,
        start=shift.start,
        end=shift.end,
        commitments=mine,
        shift_id=shift.pk,
        deployment_id=shift.deployment_id,
        seats=shift.seats,
        taken=taken,
        week_limit_minutes=week_limit_minutes,
    )


def open_q() -> Q:
    """Shifts of batches that are not cancelled."""
    return ~Q(deployment__status=DeploymentStatus.CANCELLED)
