"""The staff register export: what the actor may see, personal data masked unless permitted."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.db.models import Q
from django.http import Http404

from muster.orgs import access, crypto
from muster.orgs.access import Perm
from muster.orgs.models import Person, Unit
from muster.orgs.validators import mask_id_number, mask_phone
from muster.tabular.pipeline import ExportSheet, check_export, chunks, export_file, under
from muster.tabular.schema import use_chinese

from .plan import require
from .schema import PEOPLE, UNITS, _all_choices


def people_export(
    *, actor: Any, fmt: str, unit: Unit | None = None, sheet: str = "people"
) -> tuple[bytes, str, str]:
    """The staff register as ``actor`` may see it (under ``unit``, if given): (content, content type,
    file name).

    ``fmt`` "xlsx" writes both sheets; "csv" writes one, ``sheet`` ("people" or "units"). Phones and ID
    numbers are masked unless the actor may see them. The file imports back with no changes.
    """
    check_export(fmt, sheet, ("people", "units"))
    require(actor)
    if unit is not None and not access.can(actor, Perm.VIEW, unit):
        raise Http404
    chinese = use_chinese()
    choices = _all_choices()
    counts = {"units": 0, "people": 0}

    def unit_rows() -> Iterator[list[Any]]:
        all_units = list(Unit.objects.values_list("code", "name", "kind", "path").order_by("path"))
        code_by_path = {u[3]: u[0] for u in all_units}
        view = access.scope_paths(actor, Perm.VIEW)
        step = Unit.steplen
        for code, name, kind, path in all_units:
            if not under(path, view) or (unit is not None and not path.startswith(unit.path)):
                continue
            counts["units"] += 1
            parent_path = path[:-step]
            # A parent the actor may not see stays blank: the export must not reveal it (blank = keep).
            visible_parent = len(path) > step and under(parent_path, view)
            parent = code_by_path.get(parent_path, "") if visible_parent else ""
            yield [code, name, parent, choices["kind"].label(kind, chinese)]

    def people_rows() -> Iterator[list[Any]]:
        qs = access.scoped(Person.objects.all(), actor, Perm.VIEW)
        view = access.scope_paths(actor, Perm.VIEW)
        if unit is not None:
            qs = qs.filter(Q(unit__path__startswith=unit.path) | Q(party_unit__path__startswith=unit.path))
        rows = list(
            qs.order_by("code").values_list(
                "id",
                "code",
                "name",
                "gender",
                "birth_date",
                "unit__code",
                "unit__path",
                "party_unit__code",
                "party_unit__path",
                "political_status",
                "employment_status",
                "phone_enc",
                "id_number_enc",
                "user_id",
            )
        )
        tags: dict[int, list[str]] = {}
        through = Person.tags.through
        ids = [r[0] for r in rows]
        for chunk in chunks(ids):
            for pid, name in through.objects.filter(person_id__in=chunk).values_list(
                "person_id", "tag__name"
            ):
                tags.setdefault(pid, []).append(name)
        sep = "、" if chinese else ", "
        may: dict[tuple[Any, ...], tuple[bool, bool]] = {}
        for (
            pid,
            code,
            name,
            gender,
            birth,
            ucode,
            upath,
            pcode,
            ppath,
            pol,
            emp,
            phone_enc,
            id_enc,
            user_id,
        ) in rows:
            key = (upath, ppath, user_id == getattr(actor, "pk", None) and user_id is not None)
            if key not in may:
                who = SimpleNamespace(
                    user_id=user_id,
                    unit=SimpleNamespace(path=upath),
                    party_unit=SimpleNamespace(path=ppath) if ppath else None,
                )
                may[key] = (
                    access.may_see_personal(actor, who, Perm.VIEW_PHONE),
                    access.may_see_personal(actor, who, Perm.VIEW_ID),
                )
            see_phone, see_id = may[key]
            phone = crypto.decrypt(phone_enc) if phone_enc else ""
            id_number = crypto.decrypt(id_enc) if id_enc else ""
            counts["people"] += 1
            yield [
                code,
                name,
                choices["gender"].label(gender, chinese),
                birth,
                ucode if under(upath, view) else "",  # units out of the actor's view stay blank (= keep)
                pcode if pcode and under(ppath, view) else "",
                choices["political_status"].label(pol, chinese),
                choices["employment_status"].label(emp, chinese),
                phone if see_phone else mask_phone(phone),
                id_number if see_id else mask_id_number(id_number),
                sep.join(sorted(tags.get(pid, []))),
            ]

    return export_file(
        actor=actor,
        action="orgs.roster.exported",
        name="roster",
        fmt=fmt,
        sheet=sheet,
        unit=unit,
        sheets=[
            ExportSheet("units", UNITS, unit_rows(), (16, 36, 16, 14)),
            ExportSheet("people", PEOPLE, people_rows(), (12, 10, 6, 12, 14, 14, 12, 10, 14, 21, 24)),
        ],
        counts=counts,
    )
