"""Reports: scoped reads (rollup, time series, briefing inputs) and the snapshot writes.

Reads — for views, the API and the CLI:

- ``report_unit(user, code)``: the unit a report is about (its code; default the user's top visible
  admin unit); out of scope or unknown → ``Http404``.
- ``rollup(unit, as_of)`` / ``series(unit, start=, as_of=)`` (re-exported from ``muster.reports.rollup``).
- ``unit_series(unit, start=, as_of=)``: the day-by-day figures a page shows (a party organization's
  members', as ``unit_rollup``).
- ``unit_rollup(unit, as_of)``: what a page shows for a unit — for a party organization the figures of
  its members (``muster.reports.members``: no batch hangs on the party tree), else ``rollup``.
- ``unit_details(unit, as_of)``: per child row, the teams, sites, measures and service days a briefing
  (or a drill-down page) shows.
- ``briefing_for(unit, as_of, styles=)`` → ``briefing.Briefing``; ``briefing.write(b, "zh"|"en")``.
- ``snapshot_list(user, unit=None)``, ``snapshot_get_or_404(user, pk)``, ``snapshot_diff(snapshot)``.

Writes (keyword-only, atomic, permission-checked, audited):

- ``snapshot_publish(*, actor, unit, as_of, title="", note="")`` → ``Snapshot``. Needs
  ``PUBLISH_PERM`` on the unit. The snapshot holds the contract figures and every row's exact minutes;
  it never changes afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.clock import local_tz
from muster.mobilize.models import Deployment, DeploymentStatus, MeasureValue, ServiceEntry
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Team, TeamMembership, Unit
from muster.reports import briefing as bw
from muster.reports.members import BASIS, is_members_report, unit_rollup, unit_series
from muster.reports.models import Snapshot
from muster.reports.rollup import Figures, Rollup, cutoff, rollup, series

__all__ = [
    "BASIS",
    "PUBLISH_PERM",
    "briefing_for",
    "is_members_report",
    "report_unit",
    "rollup",
    "series",
    "snapshot_diff",
    "snapshot_get_or_404",
    "snapshot_list",
    "snapshot_publish",
    "unit_details",
    "unit_rollup",
    "unit_series",
]

PUBLISH_PERM = Perm.CHANGE  # admins and managers of the unit publish its reports

# How a briefing writes each measure (``{n}`` is the number) and the rounding it uses by default.
MEASURE_SENTENCES: dict[str, tuple[str, str, str]] = {
    "residents_tested": ("协助完成{n}居民核酸检测", "helped test {n} residents", "near"),
    "households_served": ("服务{n}户", "served {n} households", "over"),
    "calls_answered": ("接听来电{n}通", "answered {n} calls", "exact"),
    "calls_transferred_remote": ("其中{n}通由居家坐席转接完成", "{n} of them through remote seats", "exact"),
    "checkpoint_registered": ("卡点登记{n}人", "registered {n} people at checkpoints", "exact"),
    "temperatures_taken": ("测温{n}人次", "took {n} temperatures", "exact"),
    "vehicles_turned_back": ("劝返车辆{n}辆", "turned back {n} vehicles", "exact"),
}


def report_unit(user: Any, code: str | None = None) -> Unit:
    """The unit to report on: ``code`` if the user may see it, else 404; default their top admin unit
    (their top party organization when they have no role on an administrative unit)."""
    if code:
        return access.get_scoped_or_404(Unit.objects.all(), user, code=code)
    visible = list(access.visible_roots(user))
    # a party secretary (roles on party organizations only) lands on their party organization
    roots = [u for u in visible if u.kind not in PARTY_KINDS] or visible
    if not roots:
        raise Http404
    return roots[0]


# ---------------------------------------------------------------- what the briefing says of a unit


@dataclass(frozen=True)
class UnitDetails:
    teams: tuple[str, ...]
    sites: tuple[str, ...]
    first_day: date | None
    last_day: date | None
    measures: dict[str, int]


def unit_details(unit: Unit, as_of: datetime, *, own: bool = False) -> UnitDetails:
    """Teams, sites (partners, else places), service days and measures of the batches of ``unit``'s
    subtree (or of ``unit`` alone) that started before the cutoff."""
    as_of = cutoff(as_of)
    where = Q(unit=unit) if own else Q(unit__path__startswith=unit.path)
    batches = Deployment.objects.filter(where, status=DeploymentStatus.ACTIVE, start__lt=as_of)
    # Plain id lists, not nested subqueries: PostgreSQL planned the IN over a freshly loaded ledger
    # (no statistics yet) as a nested loop that ran for seconds per unit, minutes per briefing.
    batch_ids = sorted(batches.values_list("pk", flat=True))
    rows = ServiceEntry.objects.filter(deployment_id__in=batch_ids).exclude(sign=0).filter(start__lt=as_of)
    span = rows.aggregate(lo=Min("start"), hi=Max("end"))
    tz = local_tz()
    first = span["lo"].astimezone(tz).date() if span["lo"] else None
    last = (min(span["hi"], as_of) - timedelta(minutes=1)).astimezone(tz).date() if span["hi"] else None
    people = sorted(set(rows.values_list("person_id", flat=True)))
    memberships = TeamMembership.objects.filter(person_id__in=people)
    team_ids = sorted(set(memberships.values_list("team_id", flat=True)))
    teams = tuple(
        Team.objects.filter(Q(unit=unit) if own else Q(unit__path__startswith=unit.path), pk__in=team_ids)
        .order_by("code")
        .values_list("name", flat=True)
    )
    sites: list[str] = []
    for partner, site in batches.order_by("start", "code").values_list("partner__name", "site"):
        name = partner or site
        if name and name not in sites:
            sites.append(name)
    measures: dict[str, int] = defaultdict(int)
    for code, total in (
        MeasureValue.objects.filter(deployment_id__in=batch_ids)
        .values("kind__code")
        .annotate(t=Sum("value"))
        .values_list("kind__code", "t")
    ):
        measures[code] += int(total or 0)
    return UnitDetails(teams, tuple(sites), first, last, dict(measures))


def briefing_for(
    unit: Unit,
    as_of: datetime,
    *,
    styles: dict[str, str] | None = None,
    limit: int = 20,
    user: Any = None,
) -> bw.Briefing:
    """The briefing's inputs: the headline figures of ``unit``, a note per row with figures and the
    party-life sentence (from the registry's party figures of the party organization that stands for
    ``unit``, see ``muster.reports.party``; left out when it has none, or when ``user`` is given and
    may not see that organization).

    ``styles`` overrides the rounding style of a measure or party figure (``{"residents_tested":
    "exact"}``, ``{"talk_person_times": "exact"}``).
    """
    from muster.reports import party as party_figures

    report = unit_rollup(unit, as_of, pending=False)  # a party organization: its members' figures
    t = report.total
    if is_members_report(report):
        return _members_briefing(unit, report, styles=styles, limit=limit, user=user)
    active = [r for r in report.rows if r.figures.batches]
    kinds = dict(Unit.objects.filter(pk__in=[r.unit_id for r in active]).values_list("pk", "kind"))
    organ_rows = [r for r in active if r.own or kinds.get(r.unit_id) == "bureau_organ"]
    districts = sum(1 for r in active if not r.own and kinds.get(r.unit_id) == "district_bureau")
    organ, others = bool(organ_rows), len(active) - districts - len(organ_rows)
    if unit.depth > 1 or not (organ or districts):
        organ, districts, others = False, 0, 0  # below the root the headline names the unit itself
    headline = bw.Headline(
        unit_zh=unit.short_name or unit.name,
        as_of=report.as_of,
        batches=t.batches,
        person_times=t.person_times,
        hours=t.hours,
        community_persons=t.community_persons,
        community_hours=t.community_hours,
        organ=organ,
        districts=districts,
        others=others,
    )
    styles = styles or {}
    notes = []
    for r in report.rows:
        f = r.figures
        if not (f.batches or f.community_persons):
            continue
        u = Unit.objects.get(pk=r.unit_id)
        details = unit_details(u, report.as_of, own=r.own)
        measures = []
        for code, value in details.measures.items():
            zh, en, style = MEASURE_SENTENCES.get(code, ("{n}", "{n}", "exact"))
            measures.append(bw.Measure(bw.Num(value, styles.get(code, style)), zh, en))
        word_zh, word_en = "个点位", "sites"
        if all("社区" in s or "居民区" in s for s in details.sites):
            word_zh, word_en = "个社区", "communities"
        elif all(s.endswith("街道") for s in details.sites):
            word_zh, word_en = "个街道", "subdistricts"
        notes.append(
            bw.UnitNote(
                name_zh=u.short_name or u.name,
                batches=f.batches,
                person_times=f.person_times,
                persons=f.persons,
                hours=f.hours,
                first_day=details.first_day,
                last_day=details.last_day,
                teams=details.teams,
                sites=details.sites,
                site_word_zh=word_zh,
                site_word_en=word_en,
                measures=tuple(measures),
                community_persons=f.community_persons,
                community_hours=f.community_hours,
            )
        )
    party_unit = party_figures.party_unit_for(unit)
    party = None
    if party_unit is not None and (user is None or access.can(user, Perm.VIEW, party_unit)):
        party = party_figures.party_life(party_unit, report.as_of, styles=styles)
    from muster.reports.registry import briefing_sentences

    return bw.Briefing(headline, tuple(notes[:limit]), party, briefing_sentences(unit, report.as_of))


def _members_briefing(
    unit: Unit, report: Rollup, *, styles: dict[str, str] | None, limit: int, user: Any
) -> bw.Briefing:
    """The briefing of a party organization: what its members did (its rows: its child organizations'
    members), then its party-life sentence."""
    from muster.reports import party as party_figures
    from muster.reports.registry import briefing_sentences

    t = report.total
    headline = bw.Headline(
        unit_zh=unit.short_name or unit.name,
        unit_en=unit.name,
        as_of=report.as_of,
        batches=t.batches,
        person_times=t.person_times,
        hours=t.hours,
        community_persons=t.community_persons,
        community_hours=t.community_hours,
        members=True,
        persons=t.persons,
    )
    notes = [
        bw.UnitNote(
            name_zh=r.name,
            batches=r.figures.batches,
            person_times=r.figures.person_times,
            persons=r.figures.persons,
            hours=r.figures.hours,
            community_persons=r.figures.community_persons,
            community_hours=r.figures.community_hours,
            members=True,
        )
        for r in report.rows
        if not r.own and (r.figures.person_times or r.figures.community_persons)
    ]
    party = None
    if user is None or access.can(user, Perm.VIEW, unit):
        party = party_figures.party_life(unit, report.as_of, styles=styles)
    return bw.Briefing(headline, tuple(notes[:limit]), party, briefing_sentences(unit, report.as_of))


# ---------------------------------------------------------------- snapshots


def snapshot_figures(report: Rollup) -> dict[str, Any]:
    """What a snapshot stores: the contract (hours as text) and every row's exact figures. A party
    organization's (its members' figures) also keeps ``basis`` (in the contract too), ``members`` and
    ``day``: who counted is frozen with the figures."""
    contract: dict[str, Any] = {
        "as_of": report.as_of.isoformat(),
        "unit": {"code": report.unit.code, "name": report.unit.name},
        "rows": [
            {"code": r.code, "name": r.name, **{k: str(v) for k, v in r.figures.contract().items()}}
            for r in report.rows
        ],
        "total": {k: str(v) for k, v in report.total.contract().items()},
    }
    extra: dict[str, Any] = {}
    if is_members_report(report):
        contract["basis"] = BASIS
        extra = {"basis": BASIS, "members": report.extras["members"], "day": report.extras["day"].isoformat()}
    return {
        "contract": contract,
        **extra,
        "rows": [
            {
                "unit_id": r.unit_id,
                "code": r.code,
                "name": r.name,
                "own": r.own,
                "figures": r.figures.as_dict(),
            }
            for r in report.rows
        ],
        "total": report.total.as_dict(),
    }


@transaction.atomic
def snapshot_publish(*, actor: Any, unit: Unit, as_of: datetime, title: str = "", note: str = "") -> Snapshot:
    """Publish the report of ``unit`` as of ``as_of``: its figures are frozen from now on."""
    if not access.can(actor, Perm.VIEW, unit):
        raise Http404
    access.require(actor, PUBLISH_PERM, unit)
    as_of = cutoff(as_of)
    title = " ".join((title or "").split())
    if len(title) > 200:
        raise ValidationError({"title": _("The title is too long (at most 200 characters).")})
    report = unit_rollup(unit, as_of)  # a party organization: its members' figures
    if not title:
        title = _("%(unit)s: figures as of %(as_of)s") % {
            "unit": unit.short_name or unit.name,
            "as_of": as_of.strftime("%Y-%m-%d %H:%M"),
        }
    who = getattr(actor, "pk", None)
    snap = Snapshot.objects.create(
        unit=unit,
        as_of=as_of,
        title=title,
        note=note.strip(),
        figures=snapshot_figures(report),
        published_by=actor if who is not None else None,
        published_by_name=actor.get_username()
        if who is not None
        else getattr(actor, "display_name", "system"),
    )
    log_action(
        actor,
        action="reports.snapshot.published",
        target=snap,
        unit_path=unit.path,
        changes={"as_of": as_of.isoformat(), "title": title, "total": report.total.as_dict()},
    )
    return snap


def snapshot_list(user: Any, *, unit: Unit | None = None) -> QuerySet[Snapshot]:
    qs = access.scoped(Snapshot.objects.all(), user, Perm.VIEW).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit=unit)
    return qs.order_by("-published_at", "-id")


def snapshot_get_or_404(user: Any, pk: int) -> Snapshot:
    return access.get_scoped_or_404(Snapshot.objects.select_related("unit"), user, pk=pk)


@dataclass(frozen=True)
class DiffRow:
    code: str
    name: str
    own: bool
    frozen: Figures
    live: Figures

    @property
    def delta(self) -> Figures:
        return self.live - self.frozen

    @property
    def changed(self) -> bool:
        return self.frozen != self.live


@dataclass(frozen=True)
class SnapshotDiff:
    snapshot: Snapshot
    live: Rollup
    rows: tuple[DiffRow, ...]
    total: DiffRow

    @property
    def changed(self) -> bool:
        return self.total.changed or any(r.changed for r in self.rows)


def snapshot_diff(snapshot: Snapshot) -> SnapshotDiff:
    """The published figures beside the live ones for the same cutoff (late corrections show here)."""
    live = unit_rollup(snapshot.unit, snapshot.as_of)  # a party organization: its members' figures
    frozen_rows = {(r["code"], r["own"]): r for r in snapshot.figures["rows"]}
    live_rows = {(r.code, r.own): r for r in live.rows}
    rows = []
    for key in list(frozen_rows) + [k for k in live_rows if k not in frozen_rows]:
        fr, lr = frozen_rows.get(key), live_rows.get(key)
        rows.append(
            DiffRow(
                code=key[0],
                name=(fr["name"] if fr else lr.name if lr else key[0]),
                own=key[1],
                frozen=Figures.from_dict(fr["figures"]) if fr else Figures(),
                live=lr.figures if lr else Figures(),
            )
        )
    total = DiffRow(
        snapshot.unit.code,
        snapshot.unit.name,
        False,
        Figures.from_dict(snapshot.figures["total"]),
        live.total,
    )
    return SnapshotDiff(snapshot, live, tuple(rows), total)
