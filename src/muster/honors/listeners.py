"""Honors listens to the mobilization ledger: when approved hours change, people may reach a star tier.

Connected in ``HonorsConfig.ready()`` to ``mobilize.signals.ledger_rows_written``, for single writes
(``rows``) and bulk writes (``row_ids``) alike, inside the writing transaction (a failure here rolls the
ledger write back; nothing is half written). Rows without a sign (pending, rejected, correction requests)
change no balance and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

CHUNK = 5_000


def _on_ledger_rows(
    sender: Any, *, actor: Any, rows: Sequence[Any] | None = None, row_ids: Iterable[int] = (), **_: Any
) -> None:
    from muster.honors.services import stars_refresh
    from muster.mobilize.models import ServiceEntry

    people: set[int] = set()
    if rows is not None:
        people = {r.person_id for r in rows if r.sign != 0}
    else:
        ids = sorted(row_ids)
        for i in range(0, len(ids), CHUNK):
            people |= set(
                ServiceEntry.objects.filter(pk__in=ids[i : i + CHUNK])
                .exclude(sign=0)
                .values_list("person_id", flat=True)
                .distinct()
            )
    if people:
        stars_refresh(actor=actor, people=people)


def connect() -> None:
    from muster.mobilize import signals

    signals.ledger_rows_written.connect(_on_ledger_rows, dispatch_uid="honors.stars.ledger_rows")
