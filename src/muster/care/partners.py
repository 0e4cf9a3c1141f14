"""Care's provider for ``orgs.partner_activity``: the donations given to a partner, for the co-building
agreement pages of outreach (which may not import care)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from muster.care.models import Donation
from muster.clock import local_date, local_tz
from muster.orgs import access
from muster.orgs.access import Perm
from muster.orgs.models import Partner
from muster.orgs.partner_activity import PartnerActivity


def donations_with(
    user: Any, partner: Partner, start: date, end: date | None, limit: int
) -> list[PartnerActivity]:
    """The donations to ``partner`` given on local days ``start`` … ``end`` that ``user`` may see."""
    tz = local_tz()
    rows = Donation.objects.filter(
        access.path_q(user, Perm.VIEW, "unit__path"),
        partner=partner,
        given_at__gte=datetime.combine(start, time.min, tzinfo=tz),
    )
    if end is not None and end < date.max:
        rows = rows.filter(given_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
    url = reverse("care:donations")
    return [
        PartnerActivity(
            kind=_("Donation"),
            on=local_date(d.given_at),
            title=d.items or d.get_kind_display(),
            unit_name=d.unit.name,
            amount=d.value,
            url=url,
        )
        for d in rows.select_related("unit").order_by("-given_at", "-pk")[:limit]
    ]
