"""The name a shift is shown under in rosters and exports.

The Shift model has no name or template field (the mobilization app owns it), so the name is derived
from what the shift templates of ``muster.mobilize.shift_templates`` store: ``three_rotations``
(三班倒) labels its three 8-hour shifts of a day "1", "2", "3" in time order; which of them is 早班,
中班 or 夜班 follows from the local start time (from 04:00 早班, from 12:00 中班, from 20:00 夜班: with
the template's default start at 08:00 that is 1 早, 2 中, 3 夜; started at 00:00, 1 is the night);
``duty_24h`` labels its 24-hour shifts "24h"; ``hotline_curve`` labels its seat blocks by their hours
("08-12"). A label typed by hand is shown as it is.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from muster.clock import local_tz

_HOURS = re.compile(r"^(\d\d)-(\d\d)$")


def shift_name(shift: Any) -> str:
    """The shift's display name (translated): 早班/中班/夜班, 24小时值班, 坐席 08-12, or its own label."""
    label = (getattr(shift, "label", "") or "").strip()
    length = shift.end - shift.start
    if label in ("1", "2", "3") and length == timedelta(hours=8):
        hour = timezone.localtime(shift.start, local_tz()).hour
        if 4 <= hour < 12:
            return _("Morning shift")
        if 12 <= hour < 20:
            return _("Middle shift")
        return _("Night shift")
    if label == "24h" and length == timedelta(hours=24):
        return _("24-hour duty")
    if _HOURS.match(label):
        return _("Seats %(hours)s") % {"hours": label}
    return label
