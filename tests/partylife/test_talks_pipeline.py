"""Heart-to-heart talks (coverage matrix, members record their own) and the membership pipeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.models import Person
from muster.orgs.services import person_create
from muster.partylife import pipeline as pl
from muster.partylife import queries
from muster.partylife import services as svc
from muster.partylife.models import BranchMembership, Stage
from muster.points.queries import ledger_balances

from .conftest import Party, at


def test_members_record_their_own_talks_only(party: Party) -> None:
    alice = party.org.alice
    t = svc.talk_record(
        actor=party.alice_user,
        unit=party.branch,
        held_on=date(2024, 3, 1),
        topic="谈心",
        participants=[alice, party.secretary],
    )
    assert set(t.participants.values_list("code", flat=True)) == {"XH0001", "XH0101"}
    with pytest.raises(
        Http404
    ):  # a talk between two others: alice holds no grant, the branch is not hers to see
        svc.talk_record(
            actor=party.alice_user,
            unit=party.branch,
            held_on=date(2024, 3, 1),
            topic="谈心",
            participants=[party.m1, party.secretary],
        )
    with pytest.raises(NotAllowed):  # a viewer sees the branch but does not record for others
        svc.talk_record(
            actor=party.viewer,
            unit=party.branch,
            held_on=date(2024, 3, 1),
            topic="谈心",
            participants=[party.m1, party.secretary],
        )
    with pytest.raises(Http404):  # another district's secretary does not see the branch
        svc.talk_record(
            actor=party.hp_user,
            unit=party.branch,
            held_on=date(2024, 3, 1),
            topic="谈心",
            participants=[party.m1, party.secretary],
        )
    with pytest.raises(ValidationError, match="at least two"):
        svc.talk_record(
            actor=party.sec_user,
            unit=party.branch,
            held_on=date(2024, 3, 1),
            topic="谈心",
            participants=[party.m1],
        )
    with pytest.raises(ValidationError, match="None of the participants"):
        svc.talk_record(
            actor=party.sec_user,
            unit=party.branch,
            held_on=date(2024, 3, 1),
            topic="谈心",
            participants=[party.org.bob, party.m2],
        )  # m2 joined in April
    assert ledger_balances(2024)[alice.pk] == Decimal("1.00")


def test_talk_matrix_counts_pairs_by_category_and_withdrawal_reverses(party: Party) -> None:
    s, c, m1, prob, alice = party.secretary, party.committee, party.m1, party.prob, party.org.alice
    svc.talk_record(
        actor=party.sec_user, unit=party.branch, held_on=date(2024, 2, 1), topic="a", participants=[s, c]
    )
    svc.talk_record(
        actor=party.sec_user, unit=party.branch, held_on=date(2024, 2, 2), topic="b", participants=[s, m1]
    )
    t = svc.talk_record(
        actor=party.sec_user, unit=party.branch, held_on=date(2024, 2, 3), topic="c", participants=[m1, prob]
    )
    matrix = queries.talk_matrix(party.sec_user, party.branch, 2024, as_of=at("2024-03-01 00:00"))
    # roster on 2024-02-29: secretary, committee (committee); m1, prob, alice, and "left" (until 02-29)
    assert len(matrix.people) == 6
    cov = matrix.coverage
    assert cov.by_category["committee-committee"] == (1, 1)
    assert cov.by_category["committee-member"] == (8, 1)
    assert cov.by_category["member-member"] == (6, 1)
    assert matrix.covered(m1.pk, s.pk) == 1 and matrix.covered(alice.pk, s.pk) == 0
    svc.talk_withdraw(actor=party.sec_user, talk=t, reason="重复录入")
    cov = queries.talk_matrix(party.sec_user, party.branch, 2024).coverage
    assert cov.by_category["member-member"][1] == 0
    assert ledger_balances(2024)[prob.pk] == Decimal("0.00")
    assert ledger_balances(2024)[m1.pk] == Decimal("1.00")


def test_pipeline_periods_pure() -> None:
    d = pl.CaseDates(applied_on=date(2023, 1, 5), activist_on=date(2023, 3, 1))
    assert pl.check_advance(pl.ACTIVIST, pl.CANDIDATE, on=date(2024, 2, 29), dates=d) == [
        (pl.TOO_EARLY, {"date": "2024-03-01"})
    ]
    assert pl.check_advance(pl.ACTIVIST, pl.CANDIDATE, on=date(2024, 3, 1), dates=d) == []
    assert (
        pl.check_advance(pl.ACTIVIST, pl.PROBATIONARY, on=date(2024, 3, 1), dates=d)[0][0] == pl.WRONG_ORDER
    )
    young = pl.CaseDates(applied_on=date(2023, 1, 5))
    assert pl.check_advance(
        pl.APPLICANT, pl.ACTIVIST, on=date(2023, 2, 1), dates=young, birth_date=date(2005, 6, 1)
    ) == [(pl.UNDER_AGE, {"age": "17"})]
    p = pl.CaseDates(applied_on=date(2022, 1, 1), probationary_on=date(2024, 5, 10), extension_months=6)
    assert pl.earliest(pl.FULL_MEMBER, p) == date(2025, 11, 10)
    assert pl.milestones(
        pl.APPLICANT, pl.CaseDates(applied_on=date(2024, 1, 31)), through=date(2024, 3, 1)
    ) == [pl.Milestone("talk_due", date(2024, 2, 29), "overdue")]


def test_pipeline_from_application_to_full_member(party: Party) -> None:
    # an applicant is registered with the branch that handles the application (so its secretary sees them)
    cadre = person_create(
        actor=SYSTEM,
        code="XH0200",
        name="申请人",
        unit=party.org.xuhui,
        party_unit=party.branch,
        birth_date=date(1995, 5, 5),
    )
    case = svc.membership_case_open(
        actor=party.sec_user, person=cadre, branch=party.branch, applied_on=date(2022, 3, 1)
    )
    with pytest.raises(ValidationError, match="open case"):
        svc.membership_case_open(
            actor=party.sec_user, person=cadre, branch=party.branch, applied_on=date(2022, 3, 2)
        )
    due = queries.pipeline_due(party.sec_user, party.branch, as_of=at("2022-03-20 00:00"))
    assert [(d.case.pk, d.milestone.code, d.milestone.status) for d in due] == [(case.pk, "talk_due", "due")]
    svc.membership_case_talk(actor=party.sec_user, case=case, on=date(2022, 3, 15))
    svc.membership_case_advance(actor=party.sec_user, case=case, stage=Stage.ACTIVIST, on=date(2022, 6, 1))
    with pytest.raises(ValidationError, match="2023-06-01"):
        svc.membership_case_advance(
            actor=party.sec_user, case=case, stage=Stage.CANDIDATE, on=date(2023, 5, 31)
        )
    svc.membership_case_advance(actor=party.sec_user, case=case, stage=Stage.CANDIDATE, on=date(2023, 6, 1))
    with pytest.raises(ValidationError, match="Two full members"):
        svc.membership_case_advance(
            actor=party.sec_user,
            case=case,
            stage=Stage.PROBATIONARY,
            on=date(2023, 9, 1),
            introducers=[party.secretary],
        )
    with pytest.raises(ValidationError, match="full members"):
        svc.membership_case_advance(
            actor=party.sec_user,
            case=case,
            stage=Stage.PROBATIONARY,
            on=date(2023, 9, 1),
            introducers=[party.secretary, party.prob],
        )
    svc.membership_case_advance(
        actor=party.sec_user,
        case=case,
        stage=Stage.PROBATIONARY,
        on=date(2023, 9, 1),
        introducers=[party.secretary, party.committee],
    )
    cadre.refresh_from_db()
    assert cadre.political_status == "probationary" and cadre.party_unit == party.branch
    assert BranchMembership.objects.filter(person=cadre, branch=party.branch, start=date(2023, 9, 1)).exists()
    due = queries.pipeline_due(party.sec_user, party.branch, as_of=at("2024-09-02 00:00"))
    assert [(d.milestone.code, d.milestone.date, d.milestone.status) for d in due] == [
        ("full_membership_due", date(2024, 9, 1), "due")
    ]
    with pytest.raises(ValidationError, match="2024-09-01"):
        svc.membership_case_advance(
            actor=party.sec_user, case=case, stage=Stage.FULL_MEMBER, on=date(2024, 8, 31)
        )
    svc.membership_case_advance(actor=party.sec_user, case=case, stage=Stage.FULL_MEMBER, on=date(2024, 9, 1))
    case.refresh_from_db()
    cadre.refresh_from_db()
    assert case.closed and cadre.political_status == "member"
    assert list(case.steps.values_list("stage", flat=True)) == [
        "applicant",
        "applicant",
        "activist",
        "candidate",
        "probationary",
        "full_member",
    ]


def test_pipeline_refuses_members_and_out_of_scope(party: Party) -> None:
    with pytest.raises(ValidationError, match="already a party member"):
        svc.membership_case_open(
            actor=party.sec_user, person=party.m1, branch=party.branch, applied_on=date(2024, 1, 1)
        )
    carol = Person.objects.get(code="HP0001")
    with pytest.raises(Http404):
        svc.membership_case_open(
            actor=party.sec_user, person=carol, branch=party.branch, applied_on=date(2024, 1, 1)
        )
    with pytest.raises(NotAllowed):
        svc.membership_case_open(
            actor=party.viewer, person=party.org.bob, branch=party.branch, applied_on=date(2024, 1, 1)
        )
