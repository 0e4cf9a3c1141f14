"""``TextCells(long=…)``: an importer whose words for a too-long text are its own (the enterprise sheet's "at
most 60 characters") keeps them; the order of the checks and the value shown do not change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from muster.tabular.cells import text
from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import TextCells
from muster.tabular.schema import Column, SheetSpec, Table

SPEC = SheetSpec("things", "事物", "Things", (Column("name", "名称", "Name"),))


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _words(n: int) -> str:
    return f"no more than {n}, please"


def test_own_words_for_too_long_and_the_rest_unchanged() -> None:
    errors = ErrorCollector("things.csv")
    table = Table(SPEC, "Things", 1, {"name": 0}, {"name": "Thing name"})
    cells = TextCells(errors, table, key="name", max_len=3, required="a name, please", long=_words)
    values = ["abc", " abcd ", "", "ab\x07cdef", "ＡＢＣ"]
    oks = [cells.check(n, raw, text(raw)) for n, raw in enumerate(values, start=2)]
    assert oks == [True, False, False, False, True]
    assert [(e.row, e.column, e.value, e.reason) for e in errors.errors] == [
        (3, "Thing name", "abcd", "no more than 3, please"),
        (4, "Thing name", "", "a name, please"),
        (5, "Thing name", "ab\x07cdef", "Name contains a control character (U+0007), which is not allowed."),
    ]


def test_by_default_the_shared_words() -> None:
    errors = ErrorCollector("things.csv")
    table = Table(SPEC, "Things", 1, {"name": 0}, {})
    assert not TextCells(errors, table, key="name", max_len=2).check(2, "abc", "abc")
    assert [e.reason for e in errors.errors] == ["too long (at most 2 characters)"]
