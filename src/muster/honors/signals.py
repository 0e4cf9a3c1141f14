"""Signals honors sends inside the transaction of the change (``../shared/DESIGN.md``).

- ``certificate_changed`` (``certificate``): a certificate was issued or revoked.
"""

from __future__ import annotations

from django.dispatch import Signal

certificate_changed = Signal()
