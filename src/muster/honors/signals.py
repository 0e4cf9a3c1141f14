"""Signals honors sends inside the transaction of the change (``../shared/DESIGN.md``).

Receivers connect in their ``AppConfig.ready()``; an exception in a receiver rolls the change back.
Every signal carries ``actor`` (who made the change).

- ``certificate_changed`` (``certificate``): a certificate was issued or revoked.
- ``honor_approved`` (``honor``): the last committee of its chain approved an award or commendation; the
  points app records the honor's point fact (``award.<level>`` or ``commendation``) for the person.
"""

from __future__ import annotations

from django.dispatch import Signal

certificate_changed = Signal()
honor_approved = Signal()
