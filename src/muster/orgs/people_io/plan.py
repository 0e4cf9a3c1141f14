"""The planner: the people sheet on top of the units (``plan_units``), and the pipeline's ``require``
and plan steps."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from muster.audit.services import diff
from muster.orgs import access, crypto, rules
from muster.orgs.access import Perm
from muster.orgs.models import EmploymentStatus, Person, PoliticalStatus
from muster.orgs.validators import (
    InvalidValue,
    id_birth_date,
    id_gender,
    mask_id_number,
    mask_phone,
    normalize_phone,
)
from muster.tabular.cells import CellError, is_blank, parse_choice, parse_date, split_tags, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import CHUNK, CodeCells, TextCells, chunks, under, unit_not_in_scope
from muster.tabular.schema import Table

from .plan_units import _UnitsPlanner
from .rows import _already_in_row, _clean_id_number, _DbPerson, _iso, _PersonRow, _staff_number_unusable
from .schema import _CODE_MAX, _PERSON_NAME_MAX, _TAG_MAX, PEOPLE


class _Planner(_UnitsPlanner):
    """Checks a matched workbook against the database and the actor's rights; collects every error."""

    def _load_people(self, codes: list[str]) -> dict[str, _DbPerson]:
        out: dict[str, _DbPerson] = {}
        fields = (
            "id",
            "code",
            "name",
            "gender",
            "birth_date",
            "unit_id",
            "party_unit_id",
            "political_status",
            "employment_status",
            "phone_enc",
            "id_number_enc",
            "id_number_digest",
            "user_id",
        )
        through = Person.tags.through
        if self._scan_all(len(codes)):  # a large file: one pass over the table beats many IN (...) queries
            wanted = set(codes)
            for row in Person.objects.values_list(*fields).iterator(chunk_size=5000):
                if row[1] in wanted:
                    out[row[1]] = _DbPerson(*row)
            by_id = {p.id: p for p in out.values()}
            for pid, tag in through.objects.values_list("person_id", "tag__name").iterator(chunk_size=5000):
                if pid in by_id:
                    by_id[pid].tags.append(tag)
        else:
            for chunk in chunks(codes):
                for row in Person.objects.filter(code__in=chunk).values_list(*fields):
                    out[row[1]] = _DbPerson(*row)
            by_id = {p.id: p for p in out.values()}
            for chunk in chunks(list(by_id)):
                for pid, tag in through.objects.filter(person_id__in=chunk).values_list(
                    "person_id", "tag__name"
                ):
                    by_id[pid].tags.append(tag)
        for p in out.values():
            p.tags.sort()
        return out

    def _scan_all(self, wanted: int) -> bool:
        """Whether to read the whole people table rather than look ``wanted`` keys up in chunks."""
        if wanted < 5 * CHUNK:
            return False
        if self._people_total is None:
            self._people_total = Person.objects.count()
        return wanted * 3 >= self._people_total

    def person_visible(self, p: _DbPerson) -> bool:
        if p.user_id is not None and p.user_id == getattr(self.actor, "pk", None):
            return True
        u = self.unit_by_id.get(p.unit_id)
        pu = self.unit_by_id.get(p.party_unit_id) if p.party_unit_id else None
        return any(x is not None and under(x.path, self.view_paths) for x in (u, pu))

    def plan_people(self, t: Table) -> None:
        err = self.errors.add
        sheet = t.sheet
        ch = self.choices
        idx = t.index
        col = {c.key: t.column(c.key) for c in PEOPLE.columns}

        def at(key: str) -> int:
            return idx.get(key, 1 << 30)

        i_code, i_name, i_unit, i_party = at("code"), at("name"), at("unit"), at("party_unit")
        i_gender, i_birth, i_phone, i_id, i_tags = (
            at("gender"),
            at("birth_date"),
            at("phone"),
            at("id_number"),
            at("tags"),
        )
        i_choice = {k: at(k) for k in ("gender", "political_status", "employment_status")}
        rows_in = [(n, cells, text(cells[i_code]) if i_code < len(cells) else "") for n, cells in t.rows]
        existing_people = self._load_people(sorted({c for _n, _c, c in rows_in if c}))
        digests_in_file: dict[str, int] = {}
        rows: list[_PersonRow] = []
        unit_ok: dict[tuple[str, str | None, bool], str | None] = {}  # (code, current, party) → problem
        choice_memo: dict[tuple[str, Any], str | None] = {}
        today = timezone.localdate()

        def check_unit(code: str, current: str | None, party: bool) -> str | None:
            """None if fine; "" if bad but reported already (a bad row of the units sheet); else why."""
            key = (code, current, party)
            if key not in unit_ok:
                known = code in self.units or (
                    code in self.db_units and (self.visible(code) or code == current)
                )
                if not known:
                    unit_ok[key] = "" if code in self.file_codes else unit_not_in_scope()
                elif party and not self.is_party(code):
                    unit_ok[key] = _("%(code)s is not a party organization") % {"code": code}
                elif not party and self.is_party(code):
                    unit_ok[key] = _("%(code)s is a party organization, not an administrative unit") % {
                        "code": code
                    }
                else:
                    unit_ok[key] = None
            return unit_ok[key]

        def choice(key: str, raw: Any) -> str | None:
            memo_key = (key, raw)
            if memo_key not in choice_memo:
                choice_memo[memo_key] = parse_choice(raw, ch[key].table, ch[key].allowed)
            return choice_memo[memo_key]

        code_cells = CodeCells(
            self.errors,
            t,
            max_len=_CODE_MAX,
            required=_("a staff number is required"),
            repeated=_already_in_row,
        )
        name_cells = TextCells(
            self.errors, t, key="name", max_len=_PERSON_NAME_MAX, required=_("a name is required")
        )
        for rownum, cells, code in rows_in:
            n = len(cells)
            ok = code_cells.check(rownum, cells[i_code] if i_code < n else None, code)
            cur = existing_people.get(code) if code else None
            if cur is not None and not self.person_visible(cur):
                # Neutral words: never tell who has the number, nor where (security hole 9, issue 22).
                err(sheet, rownum, col["code"], code, _staff_number_unusable(code))
                ok = False
                cur = None
            cur_unit = self.unit_by_id[cur.unit_id].code if cur else None
            cur_party = self.unit_by_id[cur.party_unit_id].code if cur and cur.party_unit_id else None

            name = text(cells[i_name]) if i_name < n else ""
            raw_name = cells[i_name] if i_name < n else None
            if not name_cells.check(rownum, raw_name, name):
                ok = False

            unit = text(cells[i_unit]) if i_unit < n else ""
            if not unit and cur_unit is not None:
                unit = cur_unit  # blank keeps the stored unit (an export leaves units out of view blank)
            elif not unit:
                err(sheet, rownum, col["unit"], "", _("a unit code is required"))
                ok = False
            else:
                problem = check_unit(unit, cur_unit, party=False)
                if problem is not None:
                    if problem:
                        err(sheet, rownum, col["unit"], unit, problem)
                    ok = False

            party_unit = cur_party
            raw_party = text(cells[i_party]) if i_party < n else ""
            if raw_party:
                problem = check_unit(raw_party, cur_party, party=True)
                if problem is not None:
                    if problem:
                        err(sheet, rownum, col["party_unit"], raw_party, problem)
                    ok = False
                party_unit = raw_party

            values: dict[str, str | None] = {}
            for key, i in i_choice.items():
                raw_choice = cells[i] if i < n else None
                try:
                    values[key] = choice(key, raw_choice)
                except CellError as exc:
                    err(sheet, rownum, col[key], raw_choice, str(exc))
                    ok = False
                    values[key] = None

            raw_birth = cells[i_birth] if i_birth < n else None
            birth: date | None = None
            birth_bad = False
            try:
                birth = parse_date(raw_birth)
                if birth is not None and (problem := rules.birth_date_problem(birth, today)):
                    raise CellError(problem)
            except CellError as exc:
                err(sheet, rownum, col["birth_date"], raw_birth, str(exc))
                ok = False
                birth, birth_bad = None, True

            phone: str | None = None  # None keeps what is stored
            raw_phone = cells[i_phone] if i_phone < n else None
            phone_text = text(raw_phone)
            if phone_text and "*" not in phone_text:
                if (
                    len(phone_text) == 11
                    and phone_text.isascii()
                    and phone_text.isdigit()
                    and phone_text[0] == "1"
                    and phone_text[1] > "2"
                ):
                    phone = phone_text  # the usual mobile number, as normalize_phone would return it
                else:
                    try:
                        phone = normalize_phone(phone_text)
                    except InvalidValue:
                        err(
                            sheet,
                            rownum,
                            col["phone"],
                            raw_phone,
                            _(
                                "a phone is an 11-digit mobile number (1xxxxxxxxxx) "
                                "or a landline like 021-12345678"
                            ),
                        )
                        ok = False

            id_number: str | None = None
            raw_id = cells[i_id] if i_id < n else None
            if not is_blank(raw_id) and "*" not in text(raw_id):
                try:
                    id_number = _clean_id_number(raw_id)
                except CellError as exc:
                    err(sheet, rownum, col["id_number"], raw_id, str(exc))
                    ok = False

            tags: list[str] | None = None
            raw_tags = cells[i_tags] if i_tags < n else None
            if problem := rules.cell_problem(raw_tags, "tags"):
                err(sheet, rownum, col["tags"], raw_tags, problem)
                ok = False
            elif not is_blank(raw_tags):
                tags = split_tags(raw_tags)
                for tag in tags:
                    if len(tag) > _TAG_MAX:
                        err(
                            sheet,
                            rownum,
                            col["tags"],
                            tag,
                            _("a tag has at most %(n)d characters") % {"n": _TAG_MAX},
                        )
                        ok = False

            # For a new person, or a new ID number, the ID number gives birth date and gender when they are
            # missing, and must agree with them when given. For anyone else an empty cell keeps what is
            # stored, and a date or gender that changes is checked against the stored ID number.
            gender = values["gender"]
            id_digest = crypto.digest(id_number) if id_number is not None else None
            fresh = cur is None or (id_digest is not None and id_digest != cur.id_number_digest)
            check_birth = birth is not None and (fresh or cur is None or birth != cur.birth_date)
            check_gender = bool(gender) and (fresh or cur is None or gender != cur.gender)
            derive_birth = fresh and birth is None and not birth_bad
            derive_gender = fresh and not gender
            ident = id_number
            if ident is None and cur is not None and cur.id_number_enc and (check_birth or check_gender):
                ident = crypto.decrypt(cur.id_number_enc)
            if ident:
                id_birth, id_sex = id_birth_date(ident), id_gender(ident)
                if check_birth and birth is not None and (problem := rules.id_birth_problem(ident, birth)):
                    err(sheet, rownum, col["birth_date"], raw_birth, problem)
                    ok = False
                if check_gender and gender and (problem := rules.id_gender_problem(ident, gender)):
                    err(sheet, rownum, col["gender"], cells[i_gender] if i_gender < n else "", problem)
                    ok = False
                if derive_birth:
                    birth = id_birth
                if derive_gender:
                    gender = id_sex

            if not ok:
                continue
            row = self._person_row(
                rownum,
                code,
                cur,
                name=name,
                unit=unit,
                party_unit=party_unit,
                gender=gender,
                birth=birth,
                political=values["political_status"],
                employment=values["employment_status"],
                phone=phone,
                id_number=id_number,
                id_digest=id_digest,
                tags=tags,
            )
            if id_number is not None and row.id_number_digest:
                other = digests_in_file.get(row.id_number_digest)
                if other is not None:
                    err(sheet, rownum, col["id_number"], raw_id, _already_in_row(other))
                    continue
                digests_in_file[row.id_number_digest] = rownum
            rows.append(row)

        self._check_id_numbers_taken(t, rows, col["id_number"])
        self._check_people_rights(t, rows, col)
        self.people = rows

    def _person_row(
        self,
        rownum: int,
        code: str,
        cur: _DbPerson | None,
        *,
        name: str,
        unit: str,
        party_unit: str | None,
        gender: str | None,
        birth: date | None,
        political: str | None,
        employment: str | None,
        phone: str | None,
        id_number: str | None,
        id_digest: str | None,
        tags: list[str] | None,
    ) -> _PersonRow:
        if cur is None:
            return _PersonRow(
                rownum,
                code,
                None,
                name,
                gender or "",
                birth,
                unit,
                party_unit,
                political or PoliticalStatus.NON_PARTY,
                employment or EmploymentStatus.ACTIVE,
                phone or "",
                id_number or "",
                id_digest if id_number else None,
                sorted(set(tags or [])),
            )
        cur_unit = self.unit_by_id[cur.unit_id].code
        cur_party = self.unit_by_id[cur.party_unit_id].code if cur.party_unit_id else None
        row = _PersonRow(
            rownum,
            code,
            cur,
            name,
            gender if gender is not None else cur.gender,
            birth if birth is not None else cur.birth_date,
            unit,
            party_unit,
            political or cur.political_status,
            employment or cur.employment_status,
            None,
            None,
            cur.id_number_digest,
            sorted(set(tags)) if tags is not None else cur.tags,
        )
        changes = diff(
            {
                "name": cur.name,
                "gender": cur.gender,
                "birth_date": _iso(cur.birth_date),
                "unit": cur_unit,
                "party_unit": cur_party,
                "political_status": cur.political_status,
                "employment_status": cur.employment_status,
                "tags": cur.tags,
            },
            {
                "name": row.name,
                "gender": row.gender,
                "birth_date": _iso(row.birth_date),
                "unit": row.unit,
                "party_unit": row.party_unit,
                "political_status": row.political_status,
                "employment_status": row.employment_status,
                "tags": row.tags,
            },
        )
        if phone is not None:
            old_phone = crypto.decrypt(cur.phone_enc)
            if old_phone != phone:
                row.phone = phone
                changes["phone"] = [mask_phone(old_phone), mask_phone(phone)]
        if id_number is not None and id_digest != cur.id_number_digest:
            row.id_number, row.id_number_digest = id_number, id_digest
            old_id = crypto.decrypt(cur.id_number_enc)
            changes["id_number"] = [mask_id_number(old_id), mask_id_number(id_number)]
        row.changes = changes
        return row

    def _check_id_numbers_taken(self, t: Table, rows: list[_PersonRow], column: str) -> None:
        """An ID number given to someone must not belong to a person outside the file's changes."""
        mine = {
            r.id_number_digest: r
            for r in rows
            if r.id_number_digest
            and (r.existing is None or r.id_number_digest != r.existing.id_number_digest)
        }
        if not mine:
            return
        # Digests that people of this file give up (e.g. two people swapping a mistyped number).
        released = {
            r.existing.id_number_digest
            for r in rows
            if r.existing is not None and r.existing.id_number_digest != r.id_number_digest
        }
        found: list[tuple[int, str | None]] = []
        if self._scan_all(len(mine)):
            every = Person.objects.exclude(id_number_digest=None).values_list("id", "id_number_digest")
            found = [(pid, dig) for pid, dig in every.iterator(chunk_size=5000) if dig in mine]
        else:
            for chunk in chunks(list(mine)):
                found += Person.objects.filter(id_number_digest__in=chunk).values_list(
                    "id", "id_number_digest"
                )
        clashes: list[tuple[int, _PersonRow]] = []
        for pid, dig in found:
            r = mine[str(dig)]
            if (r.existing is not None and r.existing.id == pid) or dig in released:
                continue
            clashes.append((pid, r))
        if not clashes:
            return
        id_paths = access.scope_paths(self.actor, Perm.VIEW_ID)
        holders = {
            h[0]: h
            for h in Person.objects.filter(pk__in=[pid for pid, _r in clashes]).values_list(
                "id", "code", "name", "unit_id", "party_unit_id", "user_id"
            )
        }
        for pid, r in clashes:
            _pk, code, name, unit_id, party_unit_id, user_id = holders[pid]
            units = [self.unit_by_id.get(u) for u in (unit_id, party_unit_id) if u is not None]
            own_record = user_id is not None and user_id == getattr(self.actor, "pk", None)
            sees = own_record or any(
                u is not None and under(u.path, self.view_paths) and under(u.path, id_paths) for u in units
            )
            # Who has it only when the actor may see that person's ID number; else neutral words.
            reason = (
                _("%(name)s (%(code)s) already has this ID number") % {"name": name, "code": code}
                if sees
                else _(
                    "this ID number cannot be used here; if it is right, ask an administrator of the "
                    "whole organization"
                )
            )
            self.errors.add(t.sheet, r.row, column, "", reason)

    def _check_people_rights(self, t: Table, rows: list[_PersonRow], col: dict[str, str]) -> None:
        for r in rows:
            if r.existing is None:
                if not self.import_ok(r.unit):
                    self.errors.add(
                        t.sheet,
                        r.row,
                        col["unit"],
                        r.unit,
                        _("you may not import people into unit %(code)s") % {"code": r.unit},
                    )
                else:
                    self.result.people_created += 1
                    self.new_tags.update(r.tags)
                continue
            if not r.changes:
                self.result.people_unchanged += 1
                continue
            old_unit = self.unit_by_id[r.existing.unit_id].code
            if not self.import_ok(old_unit):
                self.errors.add(t.sheet, r.row, col["code"], r.code, _("you may not change this person"))
            elif r.unit != old_unit and not self.import_ok(r.unit):
                self.errors.add(
                    t.sheet,
                    r.row,
                    col["unit"],
                    r.unit,
                    _("you may not import people into unit %(code)s") % {"code": r.unit},
                )
            else:
                self.result.people_updated += 1
                if "tags" in r.changes:
                    self.new_tags.update(r.tags)


def require(actor: Any) -> None:
    """Who may import or export the register: ``Perm.IMPORT`` somewhere."""
    if not access.can_anywhere(actor, Perm.IMPORT):
        raise access.NotAllowed(Perm.IMPORT)


def people_plan(*, actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> _Planner:
    """Check the units and people sheets (``tables`` by sheet key) against the database and the actor's
    rights, adding every problem to ``errors``; ``people_apply`` writes the plan (``.result``: the counts).
    A whole-organization workbook (``muster.tabular.workbook``) runs the two before its ledger sheets."""
    planner = _Planner(actor, errors)
    if "units" in tables:
        planner.plan_units(tables["units"])
    if "people" in tables:
        planner.plan_people(tables["people"])
    return planner
