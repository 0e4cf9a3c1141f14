"""Signals sent by the party-life services inside the transaction of the change.

The one channel by which other apps learn what happened here (``../shared/DESIGN.md``: cross-app
reactions): the points app turns them into point-earning facts. Receivers connect in their
``AppConfig.ready()`` and are called with ``send`` — an exception in a receiver rolls the whole change
back, so the points commit or roll back with the record. Party life never imports those apps.

Every signal carries ``actor`` (who made the change) and the record as it stands after the change:

- ``meeting_approved`` (``meeting``): the committee above approved a meeting; it counts now.
- ``meeting_reopened`` (``meeting``, ``reason``): an approved meeting was reopened for a correction;
  it no longer counts until it is approved again.
- ``talk_recorded`` (``talk``): a heart-to-heart talk with its participants was recorded.
- ``talk_withdrawn`` (``talk``, ``reason``): a talk recorded by mistake was withdrawn.
- ``post_designated`` (``post``): a model post, vanguard post or responsibility area was designated.

Awards and commendations moved to the honors app, which announces ``honors.signals.honor_approved``.
"""

from __future__ import annotations

from django.dispatch import Signal

meeting_approved = Signal()
meeting_reopened = Signal()
talk_recorded = Signal()
talk_withdrawn = Signal()
post_designated = Signal()
