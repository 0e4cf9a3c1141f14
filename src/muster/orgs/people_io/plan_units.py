"""The planner's first half: loading the units and checking the units sheet (codes, parents, cycles,
trees, rights)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from muster.audit.services import diff
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, Person, Unit
from muster.tabular.cells import CellError, parse_choice, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import CodeCells, TextCells, under, unit_not_in_scope
from muster.tabular.schema import Table

from .rows import _already_in_row, _DbUnit, _FileUnit, _PersonRow
from .schema import _CODE_MAX, _UNIT_NAME_MAX, PeopleImportResult, _all_choices


class _UnitsPlanner:
    """The planner's state, and the checks of the units sheet (``plan._Planner`` adds the people sheet)."""

    def __init__(self, actor: Any, errors: ErrorCollector) -> None:
        self.actor = actor
        self.errors = errors
        self.choices = _all_choices()
        self.all_powerful = access.is_all_powerful(actor)
        self.view_paths = access.scope_paths(actor, Perm.VIEW)
        self.import_paths = access.scope_paths(actor, Perm.IMPORT)
        self.db_units: dict[str, _DbUnit] = {}
        self.unit_by_id: dict[int, _DbUnit] = {}
        self.file_codes: set[str] = set()  # every code in the units sheet, good rows or not
        self.units: dict[str, _FileUnit] = {}
        self.final_parent: dict[str, str | None] = {}
        self.final_kind: dict[str, str] = {}
        self.people: list[_PersonRow] = []
        self.new_tags: set[str] = set()
        self.result = PeopleImportResult()
        self._import_ok: dict[str, bool] = {}
        self._people_total: int | None = None
        self._load_units()

    # ------------------------------------------------ loading

    def _load_units(self) -> None:
        rows = list(Unit.objects.values_list("id", "code", "name", "kind", "path"))
        by_path = {r[4]: r[1] for r in rows}
        step = Unit.steplen
        for pk, code, name, kind, path in rows:
            u = _DbUnit(pk, code, name, kind, path, by_path.get(path[:-step]) if len(path) > step else None)
            self.db_units[code] = u
            self.unit_by_id[pk] = u
        self.final_parent = {c: u.parent_code for c, u in self.db_units.items()}
        self.final_kind = {c: u.kind for c, u in self.db_units.items()}

    def visible(self, code: str) -> bool:
        u = self.db_units.get(code)
        return u is not None and under(u.path, self.view_paths)

    def import_ok(self, code: str | None) -> bool:
        """Whether the actor may import into (under) unit ``code`` as it will be after the import."""
        if self.all_powerful:
            return True
        if code is None:
            return False
        if code not in self._import_ok:
            self._import_ok[code] = False  # guards against a cycle while computing
            fu = self.units.get(code)
            if fu is not None and fu.existing is None:
                ok = self.import_ok(self.final_parent.get(code))
            else:
                u = self.db_units.get(code)
                ok = u is not None and under(u.path, self.import_paths)
            self._import_ok[code] = ok
        return self._import_ok[code]

    def is_party(self, code: str) -> bool:
        return self.final_kind.get(code) in PARTY_KINDS

    # ------------------------------------------------ units

    def plan_units(self, t: Table) -> None:
        err = self.errors.add
        kinds = self.choices["kind"]
        code_cells = CodeCells(
            self.errors, t, max_len=_CODE_MAX, required=_("a code is required"), repeated=_already_in_row
        )
        name_cells = TextCells(
            self.errors, t, key="name", max_len=_UNIT_NAME_MAX, required=_("a name is required")
        )
        for rownum, cells in t.rows:
            raw_code = t.get(cells, "code")
            code = text(raw_code)
            ok = code_cells.check(rownum, raw_code, code)
            self.file_codes.add(code)
            raw_name = t.get(cells, "name")
            name = text(raw_name)
            if not name_cells.check(rownum, raw_name, name):
                ok = False
            kind = None
            raw_kind = t.get(cells, "kind")
            try:
                kind = parse_choice(raw_kind, kinds.table, kinds.allowed)
            except CellError as exc:
                err(t.sheet, rownum, t.column("kind"), raw_kind, str(exc))
                ok = False
            existing = self.db_units.get(code) if code else None
            if kind is None and ok and existing is None:
                err(t.sheet, rownum, t.column("kind"), "", _("a type is required for a new unit"))
                ok = False
            if existing is not None and not self.visible(code):
                # Never tell whether the unit is out of scope or merely taken: same words as a clash.
                err(
                    t.sheet,
                    rownum,
                    t.column("code"),
                    code,
                    _("another unit already has the code %(code)s") % {"code": code},
                )
                ok = False
            parent = text(t.get(cells, "parent"))
            if ok:
                self.units[code] = _FileUnit(rownum, code, name, kind, parent, existing)

        # Where each unit will hang.
        for fu in self.units.values():
            if fu.kind:
                self.final_kind[fu.code] = fu.kind
            elif fu.existing:
                fu.kind = fu.existing.kind
        unresolved: set[str] = set()
        for fu in self.units.values():
            p = fu.parent
            if not p:
                if fu.existing is None:
                    self.final_parent[fu.code] = None
                    if not self.all_powerful:
                        err(
                            t.sheet,
                            fu.row,
                            t.column("parent"),
                            "",
                            _(
                                "a new unit needs a parent unit code; "
                                "only a system administrator can add a top-level unit"
                            ),
                        )
                        unresolved.add(fu.code)
                continue
            if p == fu.code:
                err(t.sheet, fu.row, t.column("parent"), p, _("a unit cannot be its own parent"))
                unresolved.add(fu.code)
                continue
            known = p in self.units or (
                p in self.db_units
                and (self.visible(p) or (fu.existing is not None and fu.existing.parent_code == p))
            )
            if not known:
                if p not in self.file_codes:  # a bad row of the file is reported on its own
                    err(t.sheet, fu.row, t.column("parent"), p, unit_not_in_scope())
                unresolved.add(fu.code)
                continue
            self.final_parent[fu.code] = p
        self._check_cycles(t, unresolved)
        self._check_trees(t, unresolved)
        self._check_unit_rights(t, unresolved)

    def _check_cycles(self, t: Table, unresolved: set[str]) -> None:
        done: set[str] = set()
        for fu in self.units.values():
            if fu.code in unresolved or fu.code in done:
                continue
            chain: list[str] = []
            where: dict[str, int] = {}
            c: str | None = fu.code
            while c is not None and c not in done:
                if c in where:
                    cycle = chain[where[c] :]
                    shown = " → ".join([*cycle, cycle[0]])
                    for member in cycle:
                        m = self.units.get(member)
                        if m is not None:
                            self.errors.add(
                                t.sheet,
                                m.row,
                                t.column("parent"),
                                self.final_parent.get(member) or "",
                                _("this parent would make a cycle: %(cycle)s") % {"cycle": shown},
                            )
                            unresolved.add(member)
                    break
                where[c] = len(chain)
                chain.append(c)
                c = self.final_parent.get(c)
            done.update(chain)

    def _check_trees(self, t: Table, unresolved: set[str]) -> None:
        for fu in self.units.values():
            if fu.code in unresolved:
                continue
            p = self.final_parent.get(fu.code)
            if p is not None and p in self.final_kind and fu.code in self.final_kind:
                if self.is_party(fu.code) != self.is_party(p):
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("parent"),
                        p,
                        _("a party organization and an administrative unit cannot be nested in each other"),
                    )
                    unresolved.add(fu.code)
                    continue
            if fu.existing is not None and (fu.existing.kind in PARTY_KINDS) != self.is_party(fu.code):
                stays = [
                    c for c, u in self.db_units.items() if u.parent_code == fu.code and c not in self.units
                ]
                has_people = (
                    Person.objects.filter(unit_id=fu.existing.id).exists()
                    or Person.objects.filter(party_unit_id=fu.existing.id).exists()
                )
                if stays or has_people:
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("kind"),
                        fu.kind or "",
                        _(
                            "this unit has sub-units or people, so it cannot move between the administrative "
                            "and the party tree"
                        ),
                    )
                    unresolved.add(fu.code)

    def _check_unit_rights(self, t: Table, unresolved: set[str]) -> None:
        for fu in self.units.values():
            if fu.code in unresolved:
                continue
            final_parent = self.final_parent.get(fu.code)
            if final_parent in unresolved:
                continue  # the parent's own row says what is wrong
            if fu.existing is None:
                if final_parent is not None and not self.import_ok(final_parent):
                    self.errors.add(
                        t.sheet,
                        fu.row,
                        t.column("parent"),
                        final_parent,
                        _("you may not add units under %(code)s") % {"code": final_parent},
                    )
                continue
            before = {"name": fu.existing.name, "kind": fu.existing.kind}
            after = {"name": fu.name, "kind": fu.kind or fu.existing.kind}
            fu.changes = diff(before, after)
            fu.moved = final_parent != fu.existing.parent_code
            if (fu.changes or fu.moved) and not self.import_ok(fu.code):
                self.errors.add(
                    t.sheet,
                    fu.row,
                    t.column("code"),
                    fu.code,
                    _("you may not change the unit %(code)s") % {"code": fu.code},
                )
            elif fu.moved and not self.import_ok(final_parent):
                self.errors.add(
                    t.sheet,
                    fu.row,
                    t.column("parent"),
                    final_parent or "",
                    _("you may not move units under %(code)s") % {"code": final_parent},
                )
        for fu in self.units.values():
            if fu.existing is None:
                self.result.units_created += 1
            else:
                self.result.units_updated += bool(fu.changes)
                self.result.units_moved += fu.moved
                self.result.units_unchanged += not (fu.changes or fu.moved)

    def depth(self, code: str) -> int:
        d, c = 0, code
        while d < 10_000:
            d += 1
            parent = self.final_parent.get(c)
            if parent is None:
                break
            c = parent
        return d

    # ------------------------------------------------ people
