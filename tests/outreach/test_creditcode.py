"""The unified social credit code's check character (GB 32100-2015) and how a rate is written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.outreach import creditcode, rates
from tests.outreach.conftest import VALID_CODES

first17 = st.text(alphabet=creditcode.ALPHABET, min_size=17, max_size=17)


@pytest.mark.parametrize("code", VALID_CODES)
def test_known_codes_are_valid(code: str) -> None:
    assert creditcode.problem(code) is None
    assert creditcode.check_character(code[:17]) == code[17]


def test_weights_are_powers_of_three_mod_31() -> None:
    assert creditcode.WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_wrong_check_character_is_named() -> None:
    assert creditcode.problem("91350100M000100Y44") == ("check", {"expected": "3", "given": "4"})


def test_length_and_alphabet() -> None:
    assert creditcode.problem("9135010") == ("length", {"length": 7})
    assert creditcode.problem("91350100M000100I43") == ("character", {"position": 16, "char": "I"})
    assert creditcode.is_valid(" 91110000802100433b ")


@given(first17)
def test_the_computed_check_character_makes_a_valid_code(body: str) -> None:
    assert creditcode.problem(body + creditcode.check_character(body)) is None


@given(first17, st.integers(0, 16), st.sampled_from(creditcode.ALPHABET))
def test_any_single_character_change_is_caught(body: str, pos: int, char: str) -> None:
    code = body + creditcode.check_character(body)
    changed = code[:pos] + char + code[pos + 1 :]
    # Weights are units mod the prime 31: changing one character always changes the check.
    assert (creditcode.problem(changed) is None) == (changed == code)


@given(first17, st.sampled_from(creditcode.ALPHABET))
def test_exactly_one_check_character_is_right(body: str, last: str) -> None:
    assert (creditcode.problem(body + last) is None) == (last == creditcode.check_character(body))


def test_the_seeds_rate_is_cut_not_rounded() -> None:
    assert rates.percent(181, 197) == Decimal("91.8")  # 91.878…, rounding would give 91.9
    assert rates.percent_text(181, 197) == "91.8%"
    assert rates.percent(0, 0) is None
    assert rates.percent_text(0, 0) == "—"
    assert rates.percent(2, 3) == Decimal("66.6")
    assert rates.percent(5, 5) == Decimal("100.0")


@given(st.integers(0, 10**9), st.integers(1, 10**9))
def test_rate_is_floor_of_the_exact_fraction(part: int, extra: int) -> None:
    whole = part + extra - 1 if part + extra - 1 > 0 else 1
    part = min(part, whole)
    r = rates.percent(part, whole)
    assert r is not None
    tenths = int(r * 10)
    # tenths/1000 <= part/whole < (tenths+1)/1000, in integers
    assert tenths * whole <= part * 1000 < (tenths + 1) * whole
