"""Signals sent by the mobilization services inside the transaction of the change.

The one channel by which other apps learn what happened here (``../shared/DESIGN.md``: cross-app
reactions): the reports keep their rollup facts, the points app its ``service.hour`` facts. Receivers
connect in their ``AppConfig.ready()`` and are called with ``send`` — an exception in a receiver rolls
the whole change back, so derived data commits or rolls back with the ledger. Mobilization never
imports those apps.

- ``ledger_rows_written`` (``actor``, and either ``rows``: the ``ServiceEntry`` rows one service just
  appended — or, for a bulk write such as the ledger import, ``row_ids`` and ``deployment_ids``: every
  row and every new batch of the write, for set-wise handling). Single and bulk writes send the same
  signal, so a listener cannot serve one and forget the other.
- ``deployment_changed`` (``deployment``): a batch was created, its times changed, or it was cancelled.
- ``deployment_cancelled`` (``actor``, ``deployment``, ``reason``): a batch was cancelled (sent after
  ``deployment_changed``); the notify app tells its members, with the reason.
"""

from __future__ import annotations

from django.dispatch import Signal

ledger_rows_written = Signal()
deployment_changed = Signal()
deployment_cancelled = Signal()
