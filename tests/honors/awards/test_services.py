"""Awards and commendations in their own app: the approval chain by level, who may decide, the audit
codes kept from party life, and the figures (``partylife.awards`` / ``partylife.commendations``, the ids
kept) registered by honors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from muster.audit.models import AuditEvent
from muster.honors import awards, metrics
from muster.honors.models import Honor, HonorStatus
from muster.orgs.access import SYSTEM, NotAllowed, scoped
from muster.points.queries import ledger_balances
from muster.reports import registry

from .conftest import Party, at


def test_honor_approval_chain_by_level(party: Party) -> None:
    with pytest.raises(ValidationError, match="evidence"):
        awards.honor_propose(
            actor=party.sec_user,
            kind="award",
            name="优秀共产党员",
            level="city",
            awarded_on=date(2024, 6, 30),
            branch=party.branch,
            person=party.m1,
        )
    h = awards.honor_propose(
        actor=party.sec_user,
        kind="award",
        name="优秀共产党员",
        level="city",
        awarded_on=date(2024, 6, 30),
        branch=party.branch,
        person=party.m1,
        evidence_note="沪税党〔2024〕12号",
    )
    assert [u.code for u in awards.honor_chain(h)] == ["XH-DW", "SH-DW"]
    with pytest.raises(NotAllowed):  # the proposing branch cannot approve
        awards.honor_decide(actor=party.sec_user, honor=h, approve=True)
    awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    h.refresh_from_db()
    assert h.status == HonorStatus.IN_APPROVAL
    with pytest.raises(NotAllowed):  # the district committee cannot take the city step
        awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    assert metrics.metric_awards(party.org.party_root, at("2024-12-31 00:00")) == 0
    awards.honor_decide(actor=party.city_user, honor=h, approve=True, opinion="同意")
    h.refresh_from_db()
    assert h.status == HonorStatus.APPROVED
    assert ledger_balances(2024)[party.m1.pk] == Decimal("10.00")  # award.city
    assert metrics.metric_awards(party.org.party_root, at("2024-12-31 00:00")) == 1
    assert metrics.metric_awards(party.org.xuhui, at("2024-12-31 00:00")) == 1  # by the person's unit too
    assert metrics.metric_awards(party.org.party_root, at("2024-06-30 00:00")) == 0  # dated after the cutoff
    assert metrics.metric_awards(party.org.huangpu_committee, at("2024-12-31 00:00")) == 0
    # a unit commendation: one step; a rejection needs an opinion
    with pytest.raises(Http404):  # the branch secretary does not see the administrative tree
        awards.honor_propose(
            actor=party.sec_user,
            kind="commendation",
            name="通报表扬",
            level="district",
            awarded_on=date(2024, 5, 1),
            branch=party.branch,
            unit=party.org.xuhui_office,
            evidence_note="文件",
        )
    c = awards.honor_propose(
        actor=SYSTEM,
        kind="commendation",
        name="通报表扬",
        level="district",
        awarded_on=date(2024, 5, 1),
        branch=party.branch,
        unit=party.org.xuhui_office,
        evidence_note="文件",
    )
    assert [u.code for u in awards.honor_chain(c)] == ["XH-DW"]
    with pytest.raises(ValidationError, match="why"):
        awards.honor_decide(actor=party.committee_user, honor=c, approve=False)
    awards.honor_decide(actor=party.committee_user, honor=c, approve=False, opinion="材料不足")
    c.refresh_from_db()
    assert c.status == HonorStatus.REJECTED
    assert metrics.metric_commendations(party.org.party_root, at("2024-12-31 00:00")) == 0
    with pytest.raises(ValidationError, match="not waiting"):
        awards.honor_decide(actor=party.committee_user, honor=c, approve=True)


def test_bad_proposals_are_refused_field_by_field(party: Party) -> None:
    with pytest.raises(ValidationError) as exc:
        awards.honor_propose(
            actor=party.sec_user,
            kind="medal",
            name=" ",
            level="galactic",
            awarded_on=date(2026, 3, 5),  # the day after the (frozen) today
            branch=party.branch,
            person=party.m1,
            unit=party.branch,
            evidence_note="文件",
        )
    assert set(exc.value.message_dict) == {"kind", "level", "name", "person", "awarded_on"}
    assert not Honor.objects.exists()
    with pytest.raises(NotAllowed):  # a viewer of the branch records nothing
        awards.honor_propose(
            actor=party.viewer,
            kind="award",
            name="x",
            level="unit",
            awarded_on=date(2024, 1, 1),
            branch=party.branch,
            person=party.m1,
            evidence_note="x",
        )


def test_audit_codes_and_scoping_are_those_of_party_life(party: Party) -> None:
    h = awards.honor_propose(
        actor=party.sec_user,
        kind="award",
        name="岗位能手",
        level="unit",
        awarded_on=date(2024, 6, 30),
        branch=party.branch,
        person=party.m1,
        evidence_note="文件",
    )
    awards.honor_decide(actor=party.committee_user, honor=h, approve=True)
    events = AuditEvent.objects.filter(target_id=str(h.pk), target_type="honors.honor")
    assert sorted(events.values_list("action", flat=True)) == [
        "partylife.honor.decided",
        "partylife.honor.proposed",
    ]
    assert scoped(Honor.objects.all(), party.sec_user).count() == 1
    assert scoped(Honor.objects.all(), party.hp_user).count() == 0


def test_the_figures_keep_their_ids_and_come_from_honors() -> None:
    for mid in ("partylife.awards", "partylife.commendations"):
        m = registry.get(mid)
        assert m.answer.__module__ == "muster.honors.metrics" and m.group == "party"
    assert registry.get("partylife.awards").order == 70
    assert [m.id for m in registry.metrics()].count("partylife.awards") == 1
