"""A certificate's text names only the batches its issuer may see (issue 26, item 6 / scope): the hours of
batches out of the issuer's sight are counted by kind, without their title, and the totals are unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from muster.honors import pdf, services
from muster.mobilize import services as msvc
from muster.mobilize.models import EntryKind
from muster.orgs.access import SYSTEM

from .conftest import at

pytestmark = pytest.mark.django_db

SECRET = "黄浦内部专项任务"
OPEN = "徐汇核酸检测"


def served(org: Any, unit: Any, title: str, day: str, hours: int) -> Any:
    d = msvc.deployment_dispatch(
        actor=SYSTEM,
        unit=unit,
        title=title,
        start=at(f"{day} 06:00"),
        end=at(f"{day} 23:00"),
        people=[org.alice],
    ).deployment
    msvc.entry_record(
        actor=SYSTEM,
        person=org.alice,
        kind=EntryKind.DISPATCH,
        deployment=d,
        start=at(f"{day} 08:00"),
        end=at(f"{day} {8 + hours:02d}:00"),
    )
    return d


@pytest.fixture
def two_batches(org: Any) -> tuple[Any, Any]:
    return served(org, org.huangpu, SECRET, "2025-06-01", 4), served(org, org.xuhui, OPEN, "2025-06-05", 3)


def test_issued_by_a_leader_who_cannot_see_the_other_batch(org: Any, cast: Any, two_batches: Any) -> None:
    hp, _xh = two_batches
    cert = services.certificate_issue(actor=cast.leader, person=org.alice, as_of=at("2026-01-01 00:00"))
    assert cert.minutes == 7 * 60  # every approved hour counts
    assert OPEN in cert.content and SECRET not in cert.content and hp.code not in cert.content
    assert "7 h" in cert.content  # dispatch hours by kind: both batches
    body = pdf.certificate_pdf(cert, full_id=False)
    assert body.startswith(b"%PDF")


def test_an_admin_over_both_sees_both_titles(org: Any, cast: Any, two_batches: Any) -> None:
    cert = services.certificate_issue(actor=cast.admin, person=org.alice, as_of=at("2026-01-01 00:00"))
    assert OPEN in cert.content and SECRET in cert.content


def test_a_self_request_approved_by_the_leader_lists_what_the_leader_sees(
    org: Any, cast: Any, two_batches: Any
) -> None:
    cert = services.certificate_request(actor=cast.alice_user, as_of=at("2026-01-01 00:00"))
    issued = services.certificate_approve(actor=cast.leader, certificate=cert)
    assert issued.minutes == 7 * 60
    assert OPEN in issued.content and SECRET not in issued.content
