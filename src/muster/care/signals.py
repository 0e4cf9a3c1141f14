"""Signals sent by the care services inside the transaction of the change (DESIGN.md: cross-app
reactions). Care never imports another app's services; listeners connect in their ``ready()``.

- ``subject_changed`` (``subject``): a care subject was created, moved, or its status changed; a bulk
  write (the import) sends it once with ``subject=None`` and ``subjects``: every subject it created.
- ``contact_recorded`` (``subject``, ``contact``): a liaison reached (or tried to reach) a subject.
- ``help_request_changed`` (``request``, ``status``): a help request moved a step in its pipeline.
"""

from __future__ import annotations

from django.dispatch import Signal

subject_changed = Signal()
contact_recorded = Signal()
help_request_changed = Signal()
