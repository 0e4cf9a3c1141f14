"""Row errors: what was wrong, and exactly where (file, sheet, row as Excel numbers it, column, value)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_ERRORS = 1000
_VALUE_SHOWN = 40


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded file. ``row`` is the row number Excel shows (the header is row 1);
    ``None`` for a problem with the file or a whole sheet."""

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.sheet) if p]
        if self.row is not None:
            parts.append(_("row %(row)s") % {"row": self.row})
        where = " · ".join(parts)
        what = ""
        if self.column:
            what = self.column
            if self.value:
                shown = (
                    self.value if len(self.value) <= _VALUE_SHOWN else self.value[: _VALUE_SHOWN - 1] + "…"
                )
                what += f" = '{shown}'"
        elif self.value:
            what = f"'{self.value[:_VALUE_SHOWN]}'"
        head = " · ".join(p for p in (where, what) if p)
        return f"{head} : {self.reason}" if head else self.reason

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TabularError(Exception):
    """The file was refused; ``errors`` lists every problem found (capped, with a closing "and N more")."""

    def __init__(self, errors: list[RowError], *, total: int | None = None) -> None:
        self.errors = list(errors)
        self.total = total if total is not None else len(self.errors)
        super().__init__(self.summary())

    def summary(self) -> str:
        return ngettext(
            "%(count)d problem found; nothing was imported.",
            "%(count)d problems found; nothing was imported.",
            self.total,
        ) % {"count": self.total}

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(str(e) for e in self.errors)])


class ErrorCollector:
    """Gathers row errors for one file; keeps the first ``MAX_ERRORS`` and counts the rest."""

    def __init__(self, file: str, *, limit: int = MAX_ERRORS) -> None:
        self.file = file
        self.limit = limit
        self.errors: list[RowError] = []
        self.total = 0
        self.fatal = False  # a problem that stops checking (e.g. a missing column): rows cannot be read

    def add(
        self, sheet: str, row: int | None, column: str, value: Any, reason: str, *, fatal: bool = False
    ) -> None:
        self.total += 1
        self.fatal = self.fatal or fatal
        if len(self.errors) < self.limit:
            self.errors.append(RowError(self.file, sheet, row, column, _shown(value), str(reason)))

    def file_error(self, reason: str, value: Any = "") -> None:
        self.add("", None, "", value, reason, fatal=True)

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def exception(self) -> TabularError:
        errors = list(self.errors)
        more = self.total - len(errors)
        if more > 0:
            note = ngettext("… and %(count)d more problem.", "… and %(count)d more problems.", more) % {
                "count": more
            }
            errors.append(RowError(self.file, "", None, "", "", note))
        return TabularError(errors, total=self.total)

    def raise_if_any(self) -> None:
        if self.total:
            raise self.exception()


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
