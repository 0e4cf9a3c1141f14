"""Hole 3 (issue 22): a masked ID number, shown with the birth date and gender, must not rebuild the number.

The probe's attack: take what a viewer sees of a person — the masked ID number, the birth date, the
gender — try every Shanghai district code and every sequence number the mask leaves open, and keep the
candidates whose check digit agrees. With the old mask ``3101**********9906`` one candidate was left for
72 % of Shanghai people. The test runs that attack on what the page and the API show.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from django.test import Client
from django.urls import reverse

from muster.orgs.access import SYSTEM
from muster.orgs.models import Person
from muster.orgs.services import person_create
from muster.orgs.validators import id_check_digit, id_gender

# Shanghai's district codes (GB/T 2260), what an attacker would try for the hidden region digits.
SHANGHAI = [
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
]  # fmt: skip
SHOWN_TOGETHER_MIN_CANDIDATES = 100


def candidates(masked: str, birth: date, gender: str) -> list[str]:
    """Every Shanghai ID number consistent with the mask, the birth date and the gender."""
    assert len(masked) == 18
    out = []
    for area in SHANGHAI:
        for seq in range(1000):
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if id_gender(number) != gender:
                continue
            if all(m == "*" or m == c for m, c in zip(masked, number, strict=True)):
                out.append(number)
    return out


def test_the_old_mask_fell_to_the_attack() -> None:
    """The attack itself works: against the probe's mask it rebuilds the number (so the test can fail)."""
    number = "310104199003071236"
    old = number[:4] + "*" * 10 + number[-4:]
    assert len(candidates(old, date(1990, 3, 7), id_gender(number))) <= 2


def test_what_a_viewer_sees_does_not_rebuild_an_id_number(org: Any, as_role: Callable[..., Client]) -> None:
    rng = random.Random(7)
    people = []
    for i in range(12):
        birth = date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
        first17 = f"{rng.choice(SHANGHAI)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        number = first17 + id_check_digit(first17)
        people.append(
            person_create(
                actor=SYSTEM,
                code=f"XH{9000 + i}",
                name=f"测试{i}",
                unit=org.xuhui,
                gender=id_gender(number),
                birth_date=birth,
                id_number=number,
            )
        )
    viewer = as_role("viewer", org.xuhui)

    # The API's list: masked number, birth date and gender side by side.
    body = viewer.get("/api/v1/people", {"unit": "XH", "page_size": 100}).json()
    shown = {p["code"]: p for p in body["items"]}
    for person in people:
        row = shown[person.code]
        assert row["id_number_is_masked"] is True
        found = candidates(row["id_number"], date.fromisoformat(row["birth_date"]), row["gender"])
        assert person.id_number in found
        assert len(found) >= SHOWN_TOGETHER_MIN_CANDIDATES, (row["id_number"], len(found))

    # The person page shows the same.
    person = Person.objects.get(pk=people[0].pk)
    html = viewer.get(reverse("web:person_detail", args=[person.pk])).content.decode()
    masked = re.search(r'id="person-id-number">([^<]*)<', html)
    assert masked is not None
    assert masked.group(1).strip() == person.id_number_masked
    assert person.id_number not in html
    assert len(candidates(person.id_number_masked, person.birth_date, person.gender)) >= 100
