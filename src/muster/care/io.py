"""Care subjects and survey answers from Excel/CSV (Chinese or English headers, all or nothing), and the
care ledger to Excel (audited, carrying the exporter's name and the time).

Import: every row of every sheet is checked first and every problem reported (sheet, row, column, why);
only a clean file is written, in one transaction, through the care services. Answers may name subjects
the same file adds.

An export imports back: a row naming a care subject that exists (and that the importer may see) is
skipped as unchanged when its filled cells agree with what is stored (an empty cell, or a masked phone /
ID number / address as the export writes them, agrees); a row that disagrees is refused (the import only
adds subjects). An answer row equal to a recorded observation (round, subject, dimension, channel, time
to the second, value) is skipped as unchanged, if the importer may see that subject's health details;
closed rounds and deceased subjects do not matter then. The export's other sheets (about, contacts, help
requests) are laid out so that the import never takes them for one of its own. An export of an empty
ledger is refused as every file without data rows is (the pipeline's "no data rows").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from muster import clock, dates
from muster.audit.services import log_action
from muster.care import policy, queries
from muster.care import services as care
from muster.care.models import CareSubject, Channel, Contact, Dimension, Observation, SurveyRound
from muster.orgs import access, crypto
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Person, Unit
from muster.orgs.validators import InvalidValue, normalize_id_number, normalize_phone
from muster.tabular.bulk import large_write_cache
from muster.tabular.cells import parse_date, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import Importer, chunks, person_not_in_scope, unit_not_in_scope
from muster.tabular.schema import Column, SheetSpec, Table, use_chinese
from muster.tabular.template import TemplateSheet, template_file
from muster.tabular.writer import XLSX_CONTENT_TYPE, SheetData, xlsx_bytes

SUBJECTS = SheetSpec(
    "care_subjects",
    "关爱对象",
    "Care subjects",
    (
        Column("code", "编号", "Code", required=True),
        Column("unit", "单位代码", "Unit code", aliases=("单位",), required=True),
        Column("person", "工号", "Staff number"),
        Column("name", "姓名", "Name"),
        Column("birth_date", "出生日期", "Birth date"),
        Column("phone", "联系电话", "Phone", aliases=("电话",)),
        Column("id_number", "身份证号", "ID number"),
        Column("address", "住址", "Address"),
        Column("community", "社区", "Community"),
        Column("liaison", "联络员工号", "Liaison staff number", aliases=("联络员",)),
    ),
)
ANSWERS = SheetSpec(
    "care_answers",
    "排摸记录",
    "Survey answers",
    (
        Column("round", "排摸轮次", "Round", required=True),
        Column("subject", "对象编号", "Subject code", required=True),
        Column("channel", "联系方式", "Channel", required=True),
        Column("at", "时间", "Time", required=True),
        Column("dimension", "项目", "Dimension", required=True),
        Column("value", "答案", "Answer", required=True),
    ),
)
SPECS = (SUBJECTS, ANSWERS)
CHANNELS = {
    "电话": Channel.PHONE,
    "短信": Channel.SMS,
    "微信": Channel.WECHAT,
    "上门": Channel.VISIT,
    **{c.value: c.value for c in Channel},
}


@dataclass
class CareImportResult:
    subjects_created: int = 0
    answers_recorded: int = 0
    subjects_unchanged: int = 0
    answers_unchanged: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "care_subjects_created": self.subjects_created,
            "care_answers_recorded": self.answers_recorded,
            "care_subjects_unchanged": self.subjects_unchanged,
            "care_answers_unchanged": self.answers_unchanged,
            "dry_run": self.dry_run,
        }


@dataclass
class CarePlan:
    subjects: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[tuple[int, str, datetime, str], dict[str, str]] = field(default_factory=dict)
    rounds: dict[int, SurveyRound] = field(default_factory=dict)
    result: CareImportResult = field(default_factory=CareImportResult)


def require(actor: Any) -> None:
    if not access.can_anywhere(actor, Perm.CHANGE):
        raise NotAllowed(Perm.CHANGE)


def _moment(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        value = raw
    else:
        s = text(raw).replace("T", " ")
        try:
            value = datetime.fromisoformat(s)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.local_tz())
    return value


def care_plan(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> CarePlan:
    """Check every row; add every problem to ``errors``; return what a clean file would write."""
    plan = CarePlan()
    new_codes: dict[str, str] = {}  # subject code → unit path (of subjects this file adds)
    t = tables.get(SUBJECTS.key)
    if t is not None:
        units = {u.code: u for u in access.scoped(Unit.objects.all(), actor, Perm.VIEW)}
        unit_paths = {u.pk: u.path for u in units.values()}
        seen_people: set[str] = set()
        # what the rows name, fetched once (not one query per row)
        named = {text(t.get(c, k)) for _n, c in t.rows for k in ("person", "liaison")} - {""}
        visible = access.scoped(Person.objects.all(), actor, Perm.VIEW)
        people = {p.code: p for part in chunks(named) for p in visible.filter(code__in=part)}
        in_file = {text(t.get(c, "code")) for _n, c in t.rows}
        subjects = CareSubject.objects.all()
        taken = {
            c
            for part in chunks(in_file)
            for c in subjects.filter(code__in=part).values_list("code", flat=True)
        }
        existing = {
            s.code: s
            for part in chunks(taken)
            for s in policy.subjects(actor).filter(code__in=part).select_related("unit", "person", "liaison")
        }
        cared_for = {
            c
            for part in chunks(named)
            for c in subjects.filter(person__code__in=part).values_list("person__code", flat=True)
        }
        # ID numbers the file would add, checked set-wise: one already held here is named as such; one held
        # outside the caller's scope gets the same words as a code from there (never "it exists")
        file_ids: set[str] = set()
        for _n, c in t.rows:
            try:
                file_ids.add(crypto.digest(normalize_id_number(text(t.get(c, "id_number")))) or "")
            except InvalidValue:
                pass
        file_ids.discard("")
        ids_taken = {
            d
            for part in chunks(file_ids)
            for d in subjects.filter(id_number_digest__in=part).values_list("id_number_digest", flat=True)
        }
        ids_here = {
            d
            for part in chunks(ids_taken)
            for d in policy.subjects(actor)
            .filter(id_number_digest__in=part)
            .values_list("id_number_digest", flat=True)
        }
        seen_ids: set[str] = set()
        manages: dict[str, bool] = {}
        matched: set[str] = set()
        for rownum, cells in t.rows:
            row: dict[str, Any] = {k: text(t.get(cells, k)) for k in t.index}

            def bad(key: str, reason: str, row_: dict[str, Any] = row, n: int = rownum, t: Any = t) -> None:
                errors.add(t.sheet, n, t.column(key), row_.get(key, ""), reason)

            code, unit_code = row.get("code", ""), row.get("unit", "")
            if code in existing and code not in matched:  # a row of an export: unchanged, or refused
                matched.add(code)
                if row.get("person"):
                    seen_people.add(row["person"])
                differ = _differences(actor, existing[code], row, t.get(cells, "birth_date"))
                for key in differ:
                    bad(
                        key,
                        _(
                            "care subject %(code)s exists already with another value here; the import "
                            "only adds care subjects (and skips unchanged rows): change it on its page"
                        )
                        % {"code": code},
                    )
                if not differ:
                    plan.result.subjects_unchanged += 1
                continue
            if not code:
                bad("code", _("the code is empty"))
            elif code in new_codes or code in matched:
                bad("code", _("a care subject with this code exists already"))
            elif code in taken:  # out of the caller's scope: never say that it exists
                bad(
                    "code",
                    _(
                        "this code cannot be used here; if it is right, ask an administrator of the "
                        "whole organization"
                    ),
                )
            unit = units.get(unit_code)
            if unit is None:
                bad("unit", unit_not_in_scope())
            elif not manages.setdefault(unit.code, policy.may_manage(actor, unit)):
                bad("unit", _("you may not add care subjects to this unit"))
            person = None
            if row.get("person"):
                person = people.get(row["person"])
                if person is None:
                    bad("person", person_not_in_scope())
                elif row["person"] in seen_people or row["person"] in cared_for:
                    bad("person", _("this person is a care subject already"))
                seen_people.add(row["person"])
            elif not row.get("name"):
                bad("name", _("give the name of an outside resident (or the staff number of a person)"))
            birth = None
            if row.get("birth_date"):
                try:
                    birth = parse_date(t.get(cells, "birth_date"))
                except ValueError:
                    birth = None
                if birth is None or not dates.day_in_range(birth) or birth > clock.today():
                    bad("birth_date", _("not a date like 1942-05-01 (or it is in the future)"))
            for key, check in (("phone", normalize_phone), ("id_number", normalize_id_number)):
                if row.get(key):
                    try:
                        row[key] = check(row[key])
                    except InvalidValue as exc:
                        bad(key, _(str(exc)))
                        row[key] = ""
            digest = crypto.digest(row["id_number"]) if row.get("id_number") else ""
            if digest in seen_ids:
                bad("id_number", _("this ID number is on another row of the file"))
            elif digest in ids_here:
                bad("id_number", _("a care subject with this ID number exists already"))
            elif digest in ids_taken:
                bad(
                    "id_number",
                    _(
                        "this ID number cannot be used here; if it is right, ask an administrator of the "
                        "whole organization"
                    ),
                )
            if digest:
                seen_ids.add(digest)
            liaison = None
            if row.get("liaison"):
                liaison = people.get(row["liaison"])
                # a liaison from outside the subject unit's subtree is answered like an unknown person
                if liaison is None or (
                    unit is not None
                    and not any(
                        unit_paths.get(i, "").startswith(unit.path)
                        for i in (liaison.unit_id, liaison.party_unit_id)
                        if i is not None
                    )
                ):
                    liaison = None
                    bad("liaison", person_not_in_scope())
            for key, n in (("code", 40), ("name", 60), ("address", 200), ("community", 120)):
                try:
                    row[key] = care.clean_text(row.get(key, ""), field=key, max_length=n)
                except ValidationError as exc:
                    bad(key, "; ".join(exc.messages))
            if code and unit is not None:
                new_codes[code] = unit.path
            plan.subjects.append(
                {
                    "unit": unit,
                    "code": code,
                    "person": person,
                    "name": row.get("name", ""),
                    "birth_date": birth,
                    "phone": row.get("phone", ""),
                    "id_number": row.get("id_number", ""),
                    "address": row.get("address", ""),
                    "community": row.get("community", ""),
                    "liaison": liaison,
                }
            )
    t = tables.get(ANSWERS.key)
    if t is not None:
        dims = {d.code: d for d in Dimension.objects.all()}
        dims.update({d.label: d for d in dims.values()})
        now = clock.now()
        recorded = _recorded(actor, {text(t.get(c, "subject")) for _n, c in t.rows} - {""})
        for rownum, cells in t.rows:
            row = {k: text(t.get(cells, k)) for k in t.index}

            def bad(key: str, reason: str, row_: dict[str, Any] = row, n: int = rownum, t: Any = t) -> None:
                errors.add(t.sheet, n, t.column(key), row_.get(key, ""), reason)

            if recorded and _answer_key(row, t.get(cells, "at"), dims) in recorded:
                plan.result.answers_unchanged += 1  # a row of an export: recorded already
                continue
            r = None
            rid = row.get("round", "")
            if rid.isdigit() and len(rid) < 12:
                r = (
                    plan.rounds.get(int(rid))
                    or SurveyRound.objects.filter(access.path_q(actor, Perm.VIEW, "unit__path"), pk=int(rid))
                    .select_related("unit")
                    .first()
                )
            if r is None:
                bad("round", _("there is no survey round with this number"))
            elif r.closed_at is not None:
                bad("round", _("this round is closed; it takes no more answers"))
            else:
                plan.rounds[r.pk] = r
            code = row.get("subject", "")
            path = new_codes.get(code)
            if path is None:
                s = policy.subjects(actor).filter(code=code).select_related("unit").first()
                if s is None:
                    bad("subject", _("there is no care subject with this code"))
                elif not policy.may_record(actor, s):
                    bad("subject", _("you may not record answers for this subject"))
                elif s.status == "deceased":
                    bad("subject", _("this subject is deceased"))
                else:
                    path = s.unit.path
            if path is not None and r is not None and not path.startswith(r.unit.path):
                bad("subject", _("this subject is not in the round's unit"))
            channel = CHANNELS.get(row.get("channel", "").lower())
            if channel is None:
                bad("channel", _("one of 电话, 短信, 微信, 上门 (phone, sms, wechat, visit)"))
            when = _moment(t.get(cells, "at"))
            if when is None or not dates.day_in_range(when.date()):
                bad("at", _("not a time like 2022-04-01 09:30"))
            elif when > now:
                bad("at", _("this time is in the future"))
            dim = dims.get(row.get("dimension", ""))
            if dim is None or (r is not None and not r.dimensions.filter(pk=dim.pk).exists()):
                bad("dimension", _("not a dimension of this round"))
            elif when is not None:
                try:
                    value = care.check_value(dim, t.get(cells, "value"), today=clock.local_date(when))
                except ValidationError as exc:
                    bad("value", "; ".join(exc.messages))
                else:
                    if r is not None and channel is not None and when <= now:
                        plan.answers.setdefault((r.pk, code, when, channel), {})[dim.code] = value
    return plan


def _masked(value: str) -> bool:
    return "*" in value


def _differences(actor: Any, s: CareSubject, row: dict[str, Any], birth_cell: Any) -> list[str]:
    """The columns of ``row`` (an import row naming the existing subject ``s``) whose filled cells do not
    agree with what is stored. A masked phone, ID number or address agrees (the export masks them); a
    full one is compared only for an importer who may see it in full, and otherwise reads as different
    (so that the import never tells whether a guessed number is right)."""
    out = []
    for key, stored in (
        ("unit", s.unit.code),
        ("person", s.person.code if s.person_id else ""),  # type: ignore[union-attr]
        ("name", s.name),
        ("community", s.community),
        ("liaison", s.liaison.code if s.liaison_id else ""),  # type: ignore[union-attr]
    ):
        if row.get(key) and row[key] != stored:
            out.append(key)
    if row.get("birth_date"):
        try:
            birth = parse_date(birth_cell)
        except ValueError:
            birth = None
        if birth != s.birth_date:
            out.append("birth_date")
    sees = policy.may_see_health(actor, s) or policy.is_liaison(actor, s)
    for key, check in (("phone", normalize_phone), ("id_number", normalize_id_number), ("address", None)):
        value = row.get(key, "")
        if not value or _masked(value):
            continue
        try:
            same = sees and (check(value) if check else value) == getattr(s, key)
        except InvalidValue:
            same = False
        if not same:
            out.append(key)
    return out


AnswerKey = tuple[int, str, str, str, str, datetime]


def _second(at: datetime) -> datetime:
    return at.astimezone(clock.local_tz()).replace(microsecond=0)


def _recorded(actor: Any, codes: set[str]) -> set[AnswerKey]:
    """The recorded observations of the named subjects whose health details ``actor`` may see, as
    ``_answer_key`` gives an import row (the time to the second, as the export writes it)."""
    subjects = [
        s
        for part in chunks(codes)
        for s in policy.subjects(actor).filter(code__in=part).select_related("unit")
        if policy.may_see_health(actor, s)
    ]
    out: set[AnswerKey] = set()
    for part in chunks([s.pk for s in subjects]):
        for rid, code, dim, channel, value, at in Observation.objects.filter(
            subject_id__in=part, round__isnull=False
        ).values_list("round_id", "subject__code", "dimension__code", "channel", "value", "observed_at"):
            out.add((rid, code, dim, channel, value, _second(at)))
    return out


def _answer_key(row: dict[str, Any], at_cell: Any, dims: dict[str, Dimension]) -> AnswerKey | None:
    rid, dim = row.get("round", ""), dims.get(row.get("dimension", ""))
    channel, when = CHANNELS.get(row.get("channel", "").lower()), _moment(at_cell)
    if not (rid.isdigit() and len(rid) < 12) or dim is None or channel is None or when is None:
        return None
    if not dates.day_in_range(when.date()):
        return None
    return (int(rid), row.get("subject", ""), dim.code, channel, row.get("value", ""), _second(when))


def care_apply(plan: CarePlan, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    """Write a checked plan through the services (inside the caller's transaction)."""
    if plan.subjects:
        with large_write_cache():
            created = care.subjects_create_bulk(actor=actor, rows=plan.subjects, batch=filename)
        plan.result.subjects_created = len(created)
    subjects = {s.code: s for s in CareSubject.objects.filter(code__in={k[1] for k in plan.answers})}
    by_subject: dict[str, int] = defaultdict(int)
    for (rid, code, when, channel), answers in sorted(plan.answers.items(), key=lambda kv: kv[0][2]):
        care.survey_answer_record(
            actor=actor,
            subject=subjects[code],
            round=plan.rounds[rid],
            answers=answers,
            channel=channel,
            at=when,
        )
        by_subject[code] += len(answers)
        plan.result.answers_recorded += len(answers)
    if plan.subjects:
        log_action(
            actor, action="care.subjects.imported", changes={"file": filename, "created": len(plan.subjects)}
        )
    if plan.answers:
        log_action(
            actor,
            action="care.answers.imported",
            changes={"file": filename, "answers": plan.result.answers_recorded},
        )


def care_import(*, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> CareImportResult:
    """Import a file of care subjects and/or survey answers, all or nothing; ``TabularError`` lists every
    problem (the steps are the pipeline's: ``muster.tabular.pipeline.import_file``; a dry run goes through
    the services too, and is rolled back)."""
    result: CareImportResult = IMPORTER.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
    return result


def summary(result: CareImportResult) -> str:
    lines = [
        _("Care subjects: %(n)d created, %(same)d unchanged.")
        % {"n": result.subjects_created, "same": result.subjects_unchanged},
        _("Survey answers: %(n)d recorded, %(same)d unchanged.")
        % {"n": result.answers_recorded, "same": result.answers_unchanged},
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)


# ---------------------------------------------------------------- export


def _stamp(at: datetime) -> str:
    """A time as the export writes it and the import reads it: to the minute, or to the second when the
    seconds are not zero (so that a recorded answer is recognized when the file comes back)."""
    local = at.astimezone(clock.local_tz())
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def care_export(*, actor: Any, unit: Unit) -> tuple[bytes, str, str]:
    """The care ledger of ``unit``'s subtree as xlsx: subjects, (with the care-data permission) answers,
    contacts and help requests; the first sheet says who exported it and when. Audited."""
    zh = use_chinese()
    now = clock.now().astimezone(clock.local_tz())
    who = str(getattr(actor, "get_username", lambda: "system")())
    health = policy.has_care_data(actor, unit)
    subjects = list(
        policy.subjects(actor)
        .filter(unit__path__startswith=unit.path)
        .select_related("unit", "liaison", "person")
    )
    tags = queries.tags_on(unit, now) if health else {}
    about = SheetData(
        "导出信息" if zh else "Export",
        ["项目", "内容"] if zh else ["Item", "Value"],
        [
            ["导出人" if zh else "Exported by", who],
            ["导出时间" if zh else "Exported at", now.strftime("%Y-%m-%d %H:%M")],
            ["单位" if zh else "Unit", f"{unit.name} ({unit.code})"],
            [
                "含健康信息" if zh else "Health details",
                ("是" if zh else "yes") if health else ("否" if zh else "no"),
            ],
        ],
        widths=(16, 40),
    )
    sheets = [about]
    rows = []
    for s in subjects:
        row = [
            s.code,
            s.unit.code,
            s.person.code if s.person_id else "",  # type: ignore[union-attr]
            s.name,
            s.birth_date.isoformat() if s.birth_date else "",
            s.phone_masked,
            s.community,
            s.liaison.code if s.liaison_id else "",  # type: ignore[union-attr]
            s.get_status_display(),
        ]
        if health:
            row.append("、".join(sorted(c for c, _h in tags.get(s.pk, set()))))
        rows.append(row)
    head = [
        c.header(zh)
        for c in SUBJECTS.columns
        if c.key in {"code", "unit", "person", "name", "birth_date", "phone"}
    ]
    head += [SUBJECTS.columns[8].header(zh), SUBJECTS.columns[9].header(zh), "状态" if zh else "Status"]
    if health:
        head.append("风险标签" if zh else "Risk tags")
    sheets.append(SheetData(SUBJECTS.title(zh), head, rows))
    ids = [s.pk for s in subjects]
    if health:
        obs_rows = [
            [
                o.round_id or "",
                o.subject.code,
                o.channel,
                _stamp(o.observed_at),
                o.dimension.code,
                o.value,
            ]
            for o in Observation.objects.filter(subject_id__in=ids)
            .select_related("subject", "dimension")
            .order_by("pk")
        ]
        sheets.append(SheetData(ANSWERS.title(zh), ANSWERS.headers(zh), obs_rows))
    contacts = [
        [
            c.subject.code,
            c.at.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M"),
            c.channel,
            c.outcome,
            c.by_name,
        ]
        for c in Contact.objects.filter(subject_id__in=ids).select_related("subject").order_by("pk")
    ]
    sheets.append(
        SheetData(
            "联系记录" if zh else "Contacts",
            # (headers the import's layouts do not know, so that it never takes this sheet for one of its own)
            ["对象", "联系时间", "方式", "结果", "记录人"]
            if zh
            else ["Care subject", "Contacted at", "How", "Outcome", "Recorded by"],
            contacts,
        )
    )
    helps = [
        [
            h.pk,
            h.requester_name,
            h.category,
            h.urgency,
            h.status,
            h.raised_at.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M"),
        ]
        for h in queries.help_requests(actor).filter(unit__path__startswith=unit.path).order_by("pk")
    ]
    sheets.append(
        SheetData(
            "求助" if zh else "Help requests",
            ["编号", "求助人", "类别", "紧急程度", "状态", "提出时间"]
            if zh
            else ["No.", "Requester", "Category", "Urgency", "Status", "Raised at"],
            helps,
        )
    )
    content = xlsx_bytes(sheets)
    log_action(
        actor,
        action="care.ledger.exported",
        unit_path=unit.path,
        changes={"unit": unit.code, "subjects": len(subjects), "health": health, "at": now.isoformat()},
    )
    name = f"care-{unit.code}-{now:%Y%m%d-%H%M}.xlsx"
    return content, XLSX_CONTENT_TYPE, name


def care_template(actor: Any = None) -> tuple[bytes, str, str]:
    """A care workbook to fill in: headers, one example row per sheet (marked 示例 / Example, skipped by
    the import), drop-down lists for the channel and the units ``actor`` may see."""
    zh = use_chinese()
    units: list[str] = []
    if actor is not None:
        units = list(
            access.scoped(Unit.objects.all(), actor, Perm.VIEW)
            .order_by("path")
            .values_list("code", flat=True)[:2000]
        )
    channels = [k for k in CHANNELS if not k.isascii()] if zh else [c.value for c in Channel]
    return template_file(
        [
            TemplateSheet(
                SUBJECTS,
                {"unit": units},
                {
                    "code": "GA-0001",
                    "unit": units[0] if units else "XH",
                    "name": "王阿姨" if zh else "Mrs Wang",
                    "birth_date": "1942-05-01",
                    "community": "宛平社区" if zh else "Wanping",
                },
            ),
            TemplateSheet(
                ANSWERS,
                {"channel": channels},
                {
                    "round": "1",
                    "subject": "GA-0001",
                    "channel": channels[0],
                    "at": "2024-03-01 10:00",
                    "dimension": "living_alone",
                    "value": "yes",
                },
            ),
        ],
        chinese=zh,
        name="care-template.xlsx",
    )


def care_export_any(
    *, actor: Any, fmt: str = "xlsx", unit: Unit | None = None, sheet: str | None = None
) -> tuple[bytes, str, str]:
    """``care_export`` for the generic ``muster export``: without a unit, the actor's first visible
    administrative root."""
    if unit is None:
        unit = next((u for u in access.visible_roots(actor) if not u.is_party), None)
        if unit is None:
            raise Http404
    return care_export(actor=actor, unit=unit)


# ---------------------------------------------------------------- registration

IMPORTER = Importer(
    key="care",
    order=60,
    specs=SPECS,
    require=require,
    plan=care_plan,
    apply=care_apply,
    summary=summary,
    export=care_export_any,
    template=care_template,
    check_by_applying=True,
)
