"""The days a person may enter, in one place: the API schemas, the web forms, query strings, cutoffs.

A date or a year typed by a person (a cutoff, a service time, a period, a points year) must fall in
``FIRST_DAY`` .. ``LAST_DAY``. The range is far from Python's own limits (years 1 and 9999), so a day plus
"24:00", a move into another zone or a month added never overflows: "0001-01-01" and "9999-12-31 24:00"
used to end in a server error. Everything refuses out-of-range input with the same message.
"""

from __future__ import annotations

import argparse
from datetime import date

from django.utils.translation import gettext

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def date_range_message() -> str:
    return gettext("Dates must fall between %(first)s and %(last)s.") % {
        "first": FIRST_DAY.isoformat(),
        "last": LAST_DAY.isoformat(),
    }


def year_range_message() -> str:
    return gettext("Years must fall between %(first)s and %(last)s.") % {
        "first": FIRST_YEAR,
        "last": LAST_YEAR,
    }


def year_argument(text: str) -> int:
    """A command-line year (``type=`` of an argparse option): its message when not a year in range."""
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(gettext("The year must be a number, like 2024.")) from None
    if not year_in_range(year):
        raise argparse.ArgumentTypeError(year_range_message())
    return year
