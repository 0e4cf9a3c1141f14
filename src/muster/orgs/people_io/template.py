"""The staff register template: headers, example rows and drop-down lists to fill in."""

from __future__ import annotations

from typing import Any

from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import PARTY_KINDS, EmploymentStatus, Gender, PoliticalStatus, Unit, UnitKind
from muster.tabular.schema import use_chinese
from muster.tabular.template import TemplateSheet, template_file

from .schema import PEOPLE, UNITS, _all_choices

_TEMPLATE_UNITS = 2000  # unit codes offered in a template's drop-down


def scope_unit_codes(actor: Any, perm: Perm, *, party: bool | None = None) -> list[str]:
    """The codes of the units ``actor`` holds ``perm`` on (for a template's drop-down), by path."""
    if actor is None:
        return []
    qs = access.scoped(Unit.objects.all(), actor, perm)
    if party is not None:
        qs = qs.filter(kind__in=PARTY_KINDS) if party else qs.exclude(kind__in=PARTY_KINDS)
    return list(qs.order_by("path").values_list("code", flat=True)[:_TEMPLATE_UNITS])


def people_template(actor: Any = None) -> tuple[bytes, str, str]:
    """A register workbook to fill in: both sheets' headers, one example row each (marked 示例 / Example,
    skipped by the import), drop-down lists for unit type, gender, political status and state, and for
    unit codes the units ``actor`` may import into: (content, content type, file name)."""
    chinese = use_chinese()
    choices = _all_choices()

    def labels(name: str) -> list[str]:
        c = choices[name]
        return list((c.zh if chinese else c.en).values())

    admin = scope_unit_codes(actor, Perm.IMPORT, party=False)
    party = scope_unit_codes(actor, Perm.IMPORT, party=True)
    unit_example = {
        "code": f"{admin[0]}-X1" if admin else "XH-S9",
        "name": "第九税务所" if chinese else "Ninth tax office",
        "parent": admin[0] if admin else "XH",
        "kind": choices["kind"].label(UnitKind.TAX_OFFICE, chinese),
    }
    person_example = {
        "code": "A00001",
        "name": "张三" if chinese else "Zhang San",
        "gender": choices["gender"].label(Gender.MALE, chinese),
        "birth_date": "1990-03-07",
        "unit": admin[0] if admin else "XH",
        "party_unit": party[0] if party else "",
        "political_status": choices["political_status"].label(PoliticalStatus.MEMBER, chinese),
        "employment_status": choices["employment_status"].label(EmploymentStatus.ACTIVE, chinese),
        "phone": "13800000000",
        "tags": "青年" if chinese else "youth",
    }
    return template_file(
        [
            TemplateSheet(
                UNITS,
                {"kind": labels("kind"), "parent": admin},
                unit_example,
                (16, 36, 16, 14),
            ),
            TemplateSheet(
                PEOPLE,
                {
                    "gender": labels("gender"),
                    "unit": admin,
                    "party_unit": party,
                    "political_status": labels("political_status"),
                    "employment_status": labels("employment_status"),
                },
                person_example,
                (12, 10, 6, 12, 14, 14, 12, 10, 14, 21, 24),
            ),
        ],
        chinese=chinese,
        name="roster-template.xlsx",
    )


# ---------------------------------------------------------------- registration
