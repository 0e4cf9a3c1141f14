from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.orgs.validators import (
    InvalidValue,
    id_birth_date,
    id_check_digit,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
    normalize_text,
)


def test_known_id_number_check_digit() -> None:
    # The GB 11643-1999 worked example.
    assert id_check_digit("11010519491231002") == "X"
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


@given(
    area=st.sampled_from(["310101", "310104", "310115", "620123"]),
    birth=st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_every_generated_id_validates_and_one_wrong_digit_fails(area: str, birth: date, seq: int) -> None:
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    good = first17 + id_check_digit(first17)
    assert normalize_id_number(good) == good
    assert id_birth_date(good) == birth
    wrong = first17 + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidValue):
        normalize_id_number(wrong)


def test_id_with_impossible_birth_date_is_refused() -> None:
    first17 = "31010420220230123"
    with pytest.raises(InvalidValue, match="20220230"):
        normalize_id_number(first17 + id_check_digit(first17))


def test_full_width_digits_and_spaces_are_understood() -> None:
    assert normalize_text("  １２３　４ ") == "123 4"
    assert normalize_phone(" １３８ １２３４ ５６７８ ") == "13812345678"
    assert normalize_phone("+8613812345678") == "13812345678"
    assert normalize_phone("021-12366000") == "021-12366000"
    with pytest.raises(InvalidValue):
        normalize_phone("12345")


def test_masks() -> None:
    assert mask_id_number("310104199003071234") == "31***************4"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == "" and mask_phone("") == ""
