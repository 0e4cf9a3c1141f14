"""What outreach announces (sent from its services, inside the transaction)."""

from __future__ import annotations

from django.dispatch import Signal

# sender: the service name; kwargs: visit
visit_recorded = Signal()
# sender: the service name; kwargs: problem, event
problem_changed = Signal()
