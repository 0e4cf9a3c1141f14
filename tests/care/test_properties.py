"""Property tests: the contact plan's date arithmetic and the quantity/amount checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from muster.care import services as care
from muster.care.models import CareSubject, RiskLevel, SubjectStatus

SH = ZoneInfo("Asia/Shanghai")
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)
)


@given(last=moments, high=st.integers(1, 30), normal=st.integers(1, 60), is_high=st.booleans())
def test_next_contact_is_the_local_day_of_the_last_plus_the_frequency(
    last: datetime, high: int, normal: int, is_high: bool
) -> None:
    s = CareSubject(status=SubjectStatus.ACTIVE, last_contact_at=last, created_at=last)
    s.risk_level = RiskLevel.HIGH if is_high else RiskLevel.NORMAL
    care._reschedule(s, {RiskLevel.HIGH: high, RiskLevel.NORMAL: normal})
    every = high if is_high else normal
    assert s.next_due_on == last.astimezone(SH).date() + timedelta(days=every)
    # a contact late in the evening in Shanghai (after 16:00 UTC) already counts for the next local day
    assert s.next_due_on >= last.date() + timedelta(days=every)


@given(last=moments)
def test_nobody_gone_is_ever_due(last: datetime) -> None:
    for status in (SubjectStatus.DECEASED, SubjectStatus.MOVED):
        s = CareSubject(status=status, last_contact_at=last, created_at=last)
        care._reschedule(s, {RiskLevel.HIGH: 2, RiskLevel.NORMAL: 7})
        assert s.next_due_on is None


@given(value=st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=12)))
def test_quantity_is_positive_two_decimals_bounded_or_refused(value: object) -> None:
    try:
        d = care.positive_decimal(value, field="quantity", maximum=care.MAX_QUANTITY)
    except ValidationError as exc:
        assert "quantity" in exc.message_dict
    else:
        assert Decimal(0) < d <= care.MAX_QUANTITY and d == d.quantize(Decimal("0.01"))


@pytest.mark.parametrize("value", ["1e400", "-0", "0.001", "Infinity", "", " "])
def test_quantity_edge_cases_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        care.positive_decimal(value, field="quantity", maximum=care.MAX_QUANTITY)
