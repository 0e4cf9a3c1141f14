"""Signals sent by the organization's services inside the transaction of the change.

Apps that keep data derived from the tree (the reports' rollup facts) listen to them, so the derived
data commits or rolls back with the change. Receivers are called with ``send`` (an exception in a
receiver rolls the whole change back), never ``send_robust``.

- ``unit_moved`` (``unit_id``, ``old_path``, ``new_path``): a unit and its whole subtree moved; sent
  right after each move, so every earlier move has already been reported.
- ``home_units_changed`` (``person_ids``): these people's home unit (``Person.unit``) changed.
- ``people_left`` (``person_ids``, ``actor``): these people's employment status became "left" (their
  logins end: ``muster.accounts.activation.end_logins``).
"""

from __future__ import annotations

from django.dispatch import Signal

unit_moved = Signal()
home_units_changed = Signal()
people_left = Signal()
