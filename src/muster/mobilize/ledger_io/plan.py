"""The planner: the batches and service sheets checked against the database and the actor's rights
(every error collected), and the pipeline's ``require`` and plan steps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from muster import clock
from muster.audit.services import diff
from muster.clock import local_tz
from muster.mobilize import services
from muster.mobilize.models import (
    Assignment,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    EntryKind,
    ServiceEntry,
)
from muster.mobilize.queries import chain_states
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner, Person, Unit
from muster.tabular.cells import CellError, is_blank, parse_choice, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import (
    CodeCells,
    TextCells,
    chunks,
    person_not_in_scope,
    too_long,
    under,
    unit_not_in_scope,
)
from muster.tabular.schema import Table

from .rows import _DepRow, _EntryRow, _fmt, _NewPartner, _PersonInfo, _site_name
from .schema import (
    _CODE_MAX,
    _NOTE_MAX,
    _PARTNER_NAME_MAX,
    _SITE_MAX,
    _TITLE_MAX,
    APPROVED,
    DEPLOYMENTS,
    STATUS_ZH,
    LedgerImportResult,
    _status_table,
    describe_time_error,
    kind_choices,
)


def _batch_already_in_row(row: int) -> str:
    return _("the same batch is already in row %(row)d") % {"row": row}


class _Planner:
    def __init__(self, actor: Any, errors: ErrorCollector) -> None:
        self.actor = actor
        self.errors = errors
        self.tz = local_tz()
        self.now = timezone.now()
        self.actor_pk = getattr(actor, "pk", None)
        self.dispatch_paths = access.scope_paths(actor, Perm.MOBILIZE_DISPATCH)
        self.approve_paths = access.scope_paths(actor, Perm.MOBILIZE_APPROVE)
        self.units = {u.code: u for u in Unit.objects.all()}
        self.deps: dict[str, _DepRow] = {}
        self.bad_dep_codes: dict[str, int] = {}  # code → its (failed) row
        self.new_partners: dict[str, _NewPartner] = {}
        self.entries: list[_EntryRow] = []
        self.claimed: dict[int, list[tuple[datetime, datetime, str]]] = {}  # live entries in the database
        self.new_members: dict[tuple[int, str], tuple[_DepRow | Deployment, _PersonInfo]] = {}
        self.result = LedgerImportResult()

    # ------------------------------------------------ cells

    def time(self, t: Table, rownum: int, cells: Sequence[Any], key: str) -> datetime | None:
        raw = t.get(cells, key)
        try:
            return clock.parse_datetime(raw if not is_blank(raw) else "", self.tz)
        except clock.TimeParseError as exc:
            self.errors.add(t.sheet, rownum, t.column(key), raw, describe_time_error(exc))
            return None

    # ------------------------------------------------ batches

    def plan_deployments(self, t: Table) -> None:
        err = self.errors.add
        codes = [text(t.get(c, "code")) for _n, c in t.rows]
        existing = {
            d.code: d
            for d in Deployment.objects.filter(code__in=[c for c in codes if c]).select_related(
                "unit", "partner", "supported_unit"
            )
        }
        visible = set(
            access.scoped(
                Deployment.objects.filter(code__in=list(existing)), self.actor, Perm.VIEW
            ).values_list("code", flat=True)
        )
        partners = list(access.scoped(Partner.objects.all(), self.actor, Perm.VIEW).select_related("unit"))
        by_code = {p.code: p for p in partners}
        by_name: dict[str, list[Partner]] = {}
        for p in partners:
            by_name.setdefault(p.name, []).append(p)
        code_cells = CodeCells(
            self.errors,
            t,
            max_len=_CODE_MAX,
            required=_("a batch code is required"),
            repeated=_batch_already_in_row,
        )
        title_cells = TextCells(
            self.errors, t, key="title", max_len=_TITLE_MAX, required=_("say what the task is")
        )
        site_cells = TextCells(self.errors, t, key="site", max_len=_SITE_MAX)
        for rownum, cells in t.rows:
            raw_code = t.get(cells, "code")
            code = text(raw_code)
            ok = code_cells.check(rownum, raw_code, code)
            unit_code = text(t.get(cells, "unit"))
            unit = self.units.get(unit_code)
            if not unit_code:
                err(t.sheet, rownum, t.column("unit"), "", _("the dispatching unit's code is required"))
                ok = False
            elif unit is None or not access.can(self.actor, Perm.VIEW, unit):
                err(t.sheet, rownum, t.column("unit"), unit_code, unit_not_in_scope())
                ok = False
                unit = None
            elif not access.can(self.actor, Perm.MOBILIZE_DISPATCH, unit):
                err(
                    t.sheet,
                    rownum,
                    t.column("unit"),
                    unit_code,
                    _("you may not dispatch batches from %(code)s") % {"code": unit_code},
                )
                ok = False
            raw_title = t.get(cells, "title")
            title = text(raw_title)
            if not title_cells.check(rownum, raw_title, title):
                ok = False
            raw_site = t.get(cells, "site")
            site = text(raw_site)
            if not site_cells.check(rownum, raw_site, site):
                ok = False
            start = self.time(t, rownum, cells, "start")
            end = self.time(t, rownum, cells, "end")
            if start is not None and end is not None and end <= start:
                err(
                    t.sheet,
                    rownum,
                    t.column("end"),
                    t.get(cells, "end"),
                    _("the end (%(end)s) must be after the start (%(start)s)")
                    % {"end": _fmt(end), "start": _fmt(start)},
                )
                ok = False
            old = existing.get(code) if code else None
            if old is not None:
                if code not in visible:
                    err(
                        t.sheet,
                        rownum,
                        t.column("code"),
                        code,
                        _("another batch already has the code %(code)s") % {"code": code},
                    )
                    ok = False
                elif unit is not None and old.unit_id != unit.pk:
                    err(
                        t.sheet,
                        rownum,
                        t.column("unit"),
                        unit_code,
                        _("batch %(code)s was dispatched by %(unit)s; its unit cannot change")
                        % {"code": code, "unit": old.unit.code},
                    )
                    ok = False
            if not ok or start is None or end is None or unit is None:
                if code:
                    self.bad_dep_codes.setdefault(code, rownum)
                continue
            partner: Partner | _NewPartner | None = None
            same_site = old is not None and site in {
                old.site,
                old.partner.name if old.partner else old.site,
                old.partner.code if old.partner else old.site,
            }
            if site and not same_site:
                partner = self._partner(t, rownum, site, unit, by_code, by_name)
                if partner is None:
                    self.bad_dep_codes.setdefault(code, rownum)
                    continue
            d = _DepRow(rownum, code, unit, title, site, partner, start, end, old)
            if old is not None:
                before = {"title": old.title, "start": old.start, "end": old.end}
                after = {"title": title, "start": start, "end": end}
                d.changes = diff(before, after)
                if not same_site:
                    d.changes["site"] = [old.site, _site_name(partner, site)]
                if d.changes:
                    self.result.deployments_updated += 1
                else:
                    self.result.deployments_unchanged += 1
            else:
                self.result.deployments_created += 1
            self.deps[code] = d

    def _partner(
        self,
        t: Table,
        rownum: int,
        site: str,
        unit: Unit,
        by_code: dict[str, Partner],
        by_name: dict[str, list[Partner]],
    ) -> Partner | _NewPartner | None:
        if site in by_code:
            return by_code[site]
        named = by_name.get(site, [])
        if len(named) == 1:
            return named[0]
        if named:
            at_unit = [p for p in named if p.unit_id == unit.pk]
            if len(at_unit) == 1:
                return at_unit[0]
            self.errors.add(
                t.sheet,
                rownum,
                t.column("site"),
                site,
                _("several partners are named %(name)s; write the partner's code (%(codes)s)")
                % {"name": site, "codes": ", ".join(p.code for p in named)},
            )
            return None
        if len(site) > _PARTNER_NAME_MAX:
            self.errors.add(t.sheet, rownum, t.column("site"), site, too_long(_PARTNER_NAME_MAX))
            return None
        if site not in self.new_partners:
            self.new_partners[site] = _NewPartner(site, unit, rownum)
            self.result.partners_created += 1
        return self.new_partners[site]

    # ------------------------------------------------ service

    def _load_people(self, codes: list[str]) -> dict[str, _PersonInfo]:
        ids: list[int] = []
        for chunk in chunks(codes):
            ids += list(Person.objects.filter(code__in=chunk).values_list("id", flat=True))
        ids.sort()
        out: dict[str, _PersonInfo] = {}
        view_paths = access.scope_paths(self.actor, Perm.VIEW)
        for chunk in chunks(ids):
            # Locked until the import is written: no other write can slip a conflicting commitment in.
            rows = (
                Person.objects.select_for_update(of=("self",))
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list("id", "code", "name", "user_id", "unit__path", "party_unit__path")
            )
            for pid, code, name, user_id, upath, ppath in rows:
                own = user_id is not None and user_id == self.actor_pk
                if own or under(upath, view_paths) or under(ppath, view_paths):
                    out[code] = _PersonInfo(pid, code, name, user_id, upath, ppath)
        return out

    def plan_service(self, t: Table) -> None:
        err = self.errors.add
        kinds, kinds_allowed = kind_choices()
        statuses, statuses_allowed = _status_table()
        people = self._load_people(sorted({text(t.get(c, "person")) for _n, c in t.rows} - {""}))
        dep_codes = {text(t.get(c, "deployment")) for _n, c in t.rows} - {""}
        db_deps = {
            d.code: d
            for d in access.scoped(
                Deployment.objects.filter(code__in=[c for c in dep_codes if c not in self.deps]),
                self.actor,
                Perm.VIEW,
            ).select_related("unit", "supported_unit", "leader")
        }
        keys = self._existing_keys([p.id for p in people.values()])
        seen: dict[tuple[int, str, datetime, datetime], int] = {}
        note_cells = TextCells(self.errors, t, key="note", max_len=_NOTE_MAX)
        for rownum, cells in t.rows:
            ok = True
            code = text(t.get(cells, "person"))
            person = people.get(code)
            if not code:
                err(t.sheet, rownum, t.column("person"), "", _("a staff number is required"))
                ok = False
            elif person is None:
                err(t.sheet, rownum, t.column("person"), code, person_not_in_scope())
                ok = False
            dep_code = text(t.get(cells, "deployment"))
            dep: _DepRow | Deployment | None = None
            if dep_code:
                if dep_code in self.deps:
                    dep = self.deps[dep_code]
                elif dep_code in self.bad_dep_codes:
                    err(
                        t.sheet,
                        rownum,
                        t.column("deployment"),
                        dep_code,
                        _("batch %(code)s is refused (see its own row %(row)d in sheet %(sheet)s)")
                        % {
                            "code": dep_code,
                            "row": self.bad_dep_codes[dep_code],
                            "sheet": DEPLOYMENTS.title(),
                        },
                    )
                    ok = False
                elif dep_code in db_deps:
                    dep = db_deps[dep_code]
                else:
                    err(
                        t.sheet,
                        rownum,
                        t.column("deployment"),
                        dep_code,
                        _("there is no batch with the code %(code)s") % {"code": dep_code},
                    )
                    ok = False
            raw_kind = t.get(cells, "kind")
            kind: str | None = None
            try:
                kind = parse_choice(raw_kind, kinds, kinds_allowed)
            except CellError as exc:
                err(t.sheet, rownum, t.column("kind"), raw_kind, str(exc))
                ok = False
            if kind is None and ok:
                kind = EntryKind.DISPATCH if dep_code else EntryKind.COMMUNITY
            if kind == EntryKind.COMMUNITY and dep_code:
                err(
                    t.sheet,
                    rownum,
                    t.column("kind"),
                    raw_kind,
                    _("community service during home observation has no batch; leave the batch code empty"),
                )
                ok = False
            if kind == EntryKind.DISPATCH and not dep_code:
                err(t.sheet, rownum, t.column("deployment"), "", _("dispatch service names its batch"))
                ok = False
            raw_status = t.get(cells, "status")
            status: str | None = APPROVED
            try:
                status = parse_choice(raw_status, statuses, statuses_allowed) or APPROVED
            except CellError as exc:
                err(t.sheet, rownum, t.column("status"), raw_status, str(exc))
                ok = False
            raw_note = t.get(cells, "note")
            note = text(raw_note)
            if not note_cells.check(rownum, raw_note, note):
                ok = False
            span = self._span(t, rownum, cells)
            if not ok or span is None or person is None or kind is None:
                continue
            start, end, minutes = span
            if not self._may_record(t, rownum, person, dep, status == APPROVED):
                continue
            dep_key = dep_code or ""
            key = (person.id, dep_key, start, end)
            if key in seen:
                err(
                    t.sheet,
                    rownum,
                    t.column("person"),
                    code,
                    _("the same service is already in row %(row)d") % {"row": seen[key]},
                )
                continue
            seen[key] = rownum
            if key in keys:
                self.result.entries_unchanged += 1
                continue
            target = self._dep_obj(dep)
            if target is not None and target.status == DeploymentStatus.CANCELLED:
                err(
                    t.sheet,
                    rownum,
                    t.column("deployment"),
                    dep_code,
                    _("batch %(code)s is cancelled") % {"code": dep_code},
                )
                continue
            self.entries.append(
                _EntryRow(rownum, person, dep, kind, status == APPROVED, start, end, minutes, note)
            )
        self._check_overlaps(t)
        self._check_memberships(t)
        self.result.entries_created = len(self.entries)

    def _span(self, t: Table, rownum: int, cells: Sequence[Any]) -> tuple[datetime, datetime, int] | None:
        start = self.time(t, rownum, cells, "start")
        end = self.time(t, rownum, cells, "end")
        if start is None or end is None:
            return None
        start, end = clock.floor_minute(start), clock.floor_minute(end)
        raw_end = t.get(cells, "end")
        if end <= start:
            self.errors.add(
                t.sheet,
                rownum,
                t.column("end"),
                raw_end,
                _("the end (%(end)s) must be after the start (%(start)s)")
                % {"end": _fmt(end), "start": _fmt(start)},
            )
            return None
        minutes = clock.minutes_between(start, end)
        if minutes > clock.MAX_ENTRY_MINUTES:
            self.errors.add(
                t.sheet,
                rownum,
                t.column("end"),
                raw_end,
                _("an entry cannot be longer than 24 hours (this one is %(hours)s hours); split it by day")
                % {"hours": clock.minutes_to_hours(minutes)},
            )
            return None
        if end > self.now + services.FUTURE_TOLERANCE:
            self.errors.add(
                t.sheet, rownum, t.column("end"), raw_end, _("the service cannot end in the future")
            )
            return None
        return start, end, minutes

    @staticmethod
    def _dep_obj(dep: _DepRow | Deployment | None) -> Deployment | None:
        """The stored batch (None for a batch this file creates)."""
        return dep.existing if isinstance(dep, _DepRow) else dep

    def _dep_paths(self, dep: _DepRow | Deployment) -> list[str]:
        stored = self._dep_obj(dep)
        if stored is None:
            assert isinstance(dep, _DepRow)
            return [dep.unit.path]
        return [u.path for u in (stored.unit, stored.supported_unit) if u is not None]

    def _may_record(
        self, t: Table, rownum: int, person: _PersonInfo, dep: _DepRow | Deployment | None, approved: bool
    ) -> bool:
        own = person.user_id is not None and person.user_id == self.actor_pk
        if dep is not None:
            approver_paths = self._dep_paths(dep)
        else:
            approver_paths = [p for p in (person.unit_path, person.party_path) if p]
        stored = self._dep_obj(dep)
        leads = (
            stored is not None
            and stored.leader is not None
            and self.actor_pk is not None
            and stored.leader.user_id == self.actor_pk
        )
        may_approve = not own and (leads or any(under(p, self.approve_paths) for p in approver_paths))
        may_dispatch = dep is not None and any(under(p, self.dispatch_paths) for p in self._dep_paths(dep))
        if approved and not may_approve:
            reason = (
                _("nobody approves their own service; mark the row 待审核 (pending)")
                if own
                else _("you may not approve the service of %(code)s; mark the row 待审核 (pending)")
                % {"code": person.code}
            )
            self.errors.add(t.sheet, rownum, t.column("status"), STATUS_ZH[APPROVED], reason)
            return False
        if not (own or may_approve or may_dispatch):
            self.errors.add(
                t.sheet,
                rownum,
                t.column("person"),
                person.code,
                _("you may not record the service of %(code)s") % {"code": person.code},
            )
            return False
        return True

    def _existing_keys(self, person_ids: list[int]) -> set[tuple[int, str, datetime, datetime]]:
        """(person, batch code, start, end) of the record and the current version of every entry."""
        keys: set[tuple[int, str, datetime, datetime]] = set()
        for chunk in chunks(person_ids):
            rows = ServiceEntry.objects.filter(person_id__in=chunk).select_related("deployment")
            for st in chain_states(rows):
                origin, cur = st.origin, st.current
                code = origin.deployment.code if origin.deployment is not None else ""
                keys.add((origin.person_id, code, origin.start, origin.end))
                keys.add((origin.person_id, code, cur.start, cur.end))
                for iv in st.intervals_claimed():
                    self.claimed.setdefault(origin.person_id, []).append((iv.start, iv.end, code))
        return keys

    def _check_overlaps(self, t: Table) -> None:
        """No two live entries of a person overlap: new rows against each other and the database."""
        by_person: dict[int, list[tuple[datetime, datetime, int | None, str]]] = {}
        for pid, claimed in self.claimed.items():
            by_person[pid] = [(s, e, None, code) for s, e, code in claimed]
        bad: set[int] = set()
        for r in self.entries:
            by_person.setdefault(r.person.id, []).append((r.start, r.end, r.row, ""))
        for ivs in by_person.values():
            ivs.sort(key=lambda x: (x[0], x[1]))
            reach: tuple[datetime, datetime, int | None, str] | None = None
            for iv in ivs:
                if reach is not None and iv[0] < reach[1] and (iv[2] is not None or reach[2] is not None):
                    row = iv[2] if iv[2] is not None else reach[2]
                    other = reach if iv[2] is not None else iv
                    assert row is not None
                    if other[2] is not None:
                        why = _("overlaps the service in row %(row)d") % {"row": other[2]}
                    else:
                        why = _("already has service recorded %(start)s–%(end)s%(batch)s") % {
                            "start": _fmt(other[0]),
                            "end": _fmt(other[1]),
                            "batch": f" ({other[3]})" if other[3] else "",
                        }
                    self.errors.add(
                        t.sheet, row, t.column("start"), _fmt(iv[0] if iv[2] is not None else reach[0]), why
                    )
                    bad.add(row)
                if reach is None or iv[1] > reach[1]:
                    reach = iv
        if bad:
            self.entries = [r for r in self.entries if r.row not in bad]

    def _check_memberships(self, t: Table) -> None:
        """People in service rows of a batch join it; refuse overlaps with their other batches and shifts."""
        needed: dict[tuple[int, str], tuple[_DepRow | Deployment, _PersonInfo, int]] = {}
        for r in self.entries:
            if r.dep is None:
                continue
            code = r.dep.code
            needed.setdefault((r.person.id, code), (r.dep, r.person, r.row))
        if not needed:
            return
        pids = sorted({pid for pid, _c in needed})
        member_of: dict[int, dict[str, tuple[datetime, datetime]]] = {}
        shifts: dict[int, list[tuple[datetime, datetime, str]]] = {}
        for chunk in chunks(pids):
            for pid, code, start, end in DeploymentMember.objects.filter(
                person_id__in=chunk, deployment__status=DeploymentStatus.ACTIVE
            ).values_list("person_id", "deployment__code", "deployment__start", "deployment__end"):
                member_of.setdefault(pid, {})[code] = (start, end)
            for pid, start, end, dcode, label in (
                Assignment.objects.filter(person_id__in=chunk)
                .exclude(shift__deployment__status=DeploymentStatus.CANCELLED)
                .values_list(
                    "person_id", "shift__start", "shift__end", "shift__deployment__code", "shift__label"
                )
            ):
                shifts.setdefault(pid, []).append((start, end, dcode or label or ""))
        for (pid, code), (dep, person, row) in needed.items():
            current = member_of.setdefault(pid, {})
            if code in current:
                continue  # already a member
            start, end = dep.start, dep.end
            clash = next(
                (
                    (other, s, e)
                    for other, (s, e) in current.items()
                    if other != code and clock.overlaps(start, end, s, e)
                ),
                None,
            )
            if clash is None:
                clash = next(
                    (
                        (owner, s, e)
                        for s, e, owner in shifts.get(pid, [])
                        if owner != code and clock.overlaps(start, end, s, e)
                    ),
                    None,
                )
            if clash is not None:
                self.errors.add(
                    t.sheet,
                    row,
                    t.column("deployment"),
                    code,
                    _("%(person)s is already on %(other)s (%(start)s–%(end)s), which overlaps batch %(code)s")
                    % {
                        "person": f"{person.code} {person.name}",
                        "other": clash[0],
                        "start": _fmt(clash[1]),
                        "end": _fmt(clash[2]),
                        "code": code,
                    },
                )
                continue
            if code not in current:
                current[code] = (start, end)
                self.new_members[(pid, code)] = (dep, person)
                if isinstance(dep, _DepRow):
                    dep.people.append(person.code)
        self.result.members_added = len(self.new_members)


def may_import(actor: Any) -> bool:
    """Who may import or export ledgers: dispatchers and approvers (anywhere)."""
    return access.can_anywhere(actor, Perm.MOBILIZE_DISPATCH) or access.can_anywhere(
        actor, Perm.MOBILIZE_APPROVE
    )


def require(actor: Any) -> None:
    if not may_import(actor):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def ledger_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> _Planner:
    """Check the batches and service sheets (``tables`` by sheet key) against the database as it is now,
    adding every problem to ``errors``; call it inside a transaction (the people concerned stay locked) and
    write the plan with ``ledger_apply`` in the same one. A whole-organization workbook
    (``muster.tabular.workbook``) calls it after the same file's units and people are written."""
    planner = _Planner(actor, errors)
    if "deployments" in tables:
        planner.plan_deployments(tables["deployments"])
    if "service" in tables:
        planner.plan_service(tables["service"])
    return planner
