"""Writes of the care ledger, by sub-domain: each service is keyword-only, runs in one transaction, is
audited and announces what happened through ``muster.care.signals``.

Bad input raises ``ValidationError`` ({field: [message]}) before anything is written; a user who sees an
object but may not do this gets ``NotAllowed`` (403); objects out of scope never reach a service (the
views, API and CLI resolve them through ``muster.care.policy``, 404).

The modules: ``subjects``, ``plans`` (contact plan), ``surveys``, ``tags``, ``help``, ``deliveries``,
``consolations``, ``donations``, ``receipts`` (and audited reads), ``grants`` (the care-data permission),
``common`` (small checks). Every name is re-exported here: ``from muster.care import services as care``
then ``care.subject_create(...)``.
"""

from __future__ import annotations

from muster.care.services.common import (
    HELP_DUE_HOURS,
    MAX_AMOUNT,
    MAX_QUANTITY,
    _choice,
    _day,
    _moment,
    _name,
    _require_alive,
    clean_text,
    positive_decimal,
)
from muster.care.services.consolations import consolation_approve, consolation_record
from muster.care.services.deliveries import LineIn, delivery_line_mark, delivery_run_create
from muster.care.services.donations import donation_record, drive_contribute, drive_open
from muster.care.services.grants import care_grant, care_grant_revoke
from muster.care.services.help import _NEXT, _help_step, _tell_raiser, help_request_raise, help_request_step
from muster.care.services.plans import (
    _frequencies,
    _reschedule,
    contact_record,
    contact_schedule,
    frequency_set,
)
from muster.care.services.receipts import _may_record_run, health_read_log, receipt_attach, receipt_read_log
from muster.care.services.subjects import (
    _BULK_ATTNAMES,
    _BULK_FIELDS,
    _any_taken,
    _check_liaison,
    _check_liaisons,
    _clean_id,
    _clean_phone,
    _parts,
    subject_create,
    subject_status_set,
    subject_update,
    subjects_create_bulk,
)
from muster.care.services.surveys import (
    check_value,
    dimension_create,
    round_close,
    round_open,
    survey_answer_record,
)
from muster.care.services.tags import (
    _apply_rules,
    _refresh_level,
    current_tags,
    latest_values,
    risk_tag_set,
    rule_tags,
)

__all__ = [
    "HELP_DUE_HOURS",
    "MAX_AMOUNT",
    "MAX_QUANTITY",
    "_BULK_ATTNAMES",
    "_BULK_FIELDS",
    "_NEXT",
    "LineIn",
    "_any_taken",
    "_apply_rules",
    "_check_liaison",
    "_check_liaisons",
    "_choice",
    "_clean_id",
    "_clean_phone",
    "_day",
    "_frequencies",
    "_help_step",
    "_may_record_run",
    "_moment",
    "_name",
    "_parts",
    "_refresh_level",
    "_require_alive",
    "_reschedule",
    "_tell_raiser",
    "care_grant",
    "care_grant_revoke",
    "check_value",
    "clean_text",
    "consolation_approve",
    "consolation_record",
    "contact_record",
    "contact_schedule",
    "current_tags",
    "delivery_line_mark",
    "delivery_run_create",
    "dimension_create",
    "donation_record",
    "drive_contribute",
    "drive_open",
    "frequency_set",
    "health_read_log",
    "help_request_raise",
    "help_request_step",
    "latest_values",
    "positive_decimal",
    "receipt_attach",
    "receipt_read_log",
    "risk_tag_set",
    "round_close",
    "round_open",
    "rule_tags",
    "subject_create",
    "subject_status_set",
    "subject_update",
    "subjects_create_bulk",
    "survey_answer_record",
]
