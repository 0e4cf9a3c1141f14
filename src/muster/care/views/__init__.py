"""Care pages, by sub-domain: the liaison's phone pages and the subjects (``subjects``), survey rounds
(``surveys``), deliveries and receipts (``deliveries``), help requests (``help``), condolences
(``consolations``), donations and drives (``donations``); ``common`` holds what they share.

Thin: objects come through ``muster.care.policy`` (out of scope = 404); writes go through the services.
Every view is re-exported here (``muster.care.urls`` names them as ``views.<name>``).
"""

from __future__ import annotations

from muster.care.views.common import (
    M,
    _attach,
    _errors,
    _form_page,
    _in_unit_or_404,
    _manage_units,
    _person_or_error,
    _upload,
)
from muster.care.views.consolations import (
    _consolation_or_404,
    consolation_approve,
    consolation_new,
    consolations,
)
from muster.care.views.deliveries import (
    _parse_lines,
    _run_or_404,
    deliveries,
    receipt_file,
    receipt_upload,
    run_detail,
    run_new,
    subject_delivery,
)
from muster.care.views.donations import (
    _donation_or_404,
    _drive_or_404,
    donation_new,
    donations,
    drive_detail,
    drive_new,
)
from muster.care.views.help import _help_or_404, help_detail, help_list, help_new
from muster.care.views.subjects import (
    contact_ok,
    help_raise,
    overdue,
    subject,
    subject_edit,
    subject_new,
    subject_status,
    subjects,
    today,
)
from muster.care.views.surveys import (
    _round_or_404,
    answer,
    open_rounds_for,
    round_close,
    round_detail,
    round_new,
    rounds,
)

__all__ = [
    "M",
    "_attach",
    "_consolation_or_404",
    "_donation_or_404",
    "_drive_or_404",
    "_errors",
    "_form_page",
    "_help_or_404",
    "_in_unit_or_404",
    "_manage_units",
    "_parse_lines",
    "_person_or_error",
    "_round_or_404",
    "_run_or_404",
    "_upload",
    "answer",
    "consolation_approve",
    "consolation_new",
    "consolations",
    "contact_ok",
    "deliveries",
    "donation_new",
    "donations",
    "drive_detail",
    "drive_new",
    "help_detail",
    "help_list",
    "help_new",
    "help_raise",
    "open_rounds_for",
    "overdue",
    "receipt_file",
    "receipt_upload",
    "round_close",
    "round_detail",
    "round_new",
    "rounds",
    "run_detail",
    "run_new",
    "subject",
    "subject_delivery",
    "subject_edit",
    "subject_new",
    "subject_status",
    "subjects",
    "today",
]
