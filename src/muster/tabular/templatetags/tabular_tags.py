"""``{% if user|may_import:"ledger" %}``: whether a user may use an importer's page (``/import/<key>/``).

Pages link to an import page only for a user it would not refuse, so no menu leads to a 403."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import PermissionDenied

from muster.tabular.pipeline import importer

register = template.Library()


@register.filter
def may_import(user: Any, key: str) -> bool:
    imp = importer(key)
    if imp is None or not getattr(user, "is_authenticated", False):
        return False
    try:
        imp.require(user)
    except PermissionDenied:
        return False
    return True
