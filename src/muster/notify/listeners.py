"""What the notify app tells people when other apps announce something (their domain signals).

Connected in ``NotifyConfig.ready()``. A receiver runs inside the announcing transaction: the notices
commit (and their outside deliveries are queued) with the change, or not at all.

- ``mobilize.signals.deployment_cancelled``: every member of the batch who can be reached is told that
  the batch was cancelled and why (verb ``mobilize.batch_cancelled``).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muster.mobilize import signals as mobilize_signals
from muster.mobilize.models import Deployment
from muster.notify.services import notify, recipients_of, register_kind
from muster.orgs.models import Person

BATCH_CANCELLED = "mobilize.batch_cancelled"


def _on_deployment_cancelled(sender: Any, *, deployment: Deployment, reason: str, **kwargs: Any) -> None:
    d = deployment
    people = (
        Person.objects.filter(deployment_memberships__deployment=d).select_related("user").order_by("code")
    )
    recipients = recipients_of(people)
    if not recipients:
        return
    title = _("Batch %(code)s was cancelled") % {"code": d.code}
    body = _("%(unit)s · batch %(seq)s: %(task)s, %(start)s – %(end)s. Reason: %(reason)s") % {
        "unit": d.unit.name,
        "seq": d.seq,
        "task": d.title,
        "start": timezone.localtime(d.start).strftime("%Y-%m-%d %H:%M"),
        "end": timezone.localtime(d.end).strftime("%Y-%m-%d %H:%M"),
        "reason": reason,
    }
    notify(
        recipients,
        verb=BATCH_CANCELLED,
        title=title,
        body=body,
        link=reverse("mobilize:batch_detail", args=[d.pk]),
    )


def connect() -> None:
    register_kind(BATCH_CANCELLED, gettext_lazy("A batch you are in was cancelled"))
    mobilize_signals.deployment_cancelled.connect(
        _on_deployment_cancelled, dispatch_uid="notify.listeners.deployment_cancelled"
    )
