"""Who may see and do what in the care ledger, on top of ``muster.orgs.access`` (the scoping authority).

- A subject is visible to whoever may view its unit (``Perm.VIEW``) and to its liaison; anything else is
  "not found" (404).
- Health answers and risk tags need the "care data" permission: a ``CareDataGrant`` on the subject's
  unit or an ancestor, granted explicitly (no role implies it; the all-powerful have it). The subject's
  liaison records answers for their own subjects.
- Managing the ledger (subjects, rounds, deliveries, help requests, donations) needs ``Perm.CHANGE`` on
  the unit (manager, secretary, admin). Approving a consolation payment needs the care-data permission
  and may not be done by the person who requested it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from muster.care.models import CareDataGrant, CareSubject
from muster.orgs import access
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Person, Unit

_ATTR = "_muster_care_paths"


def care_paths(user: Any) -> list[str] | None:
    """Unit path prefixes where ``user`` holds the care-data permission; ``None`` means everywhere."""
    if access.is_all_powerful(user):
        return None
    cached = getattr(user, _ATTR, None)
    if cached is not None:
        return list(cached)
    paths: list[str] = []
    if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        paths = sorted(
            set(
                CareDataGrant.objects.filter(user_id=user.pk, unit__is_active=True).values_list(
                    "unit__path", flat=True
                )
            )
        )
    try:
        setattr(user, _ATTR, paths)
    except AttributeError:
        pass
    return paths


def forget(user: Any) -> None:
    if hasattr(user, _ATTR):
        delattr(user, _ATTR)


def has_care_data(user: Any, unit: Unit) -> bool:
    paths = care_paths(user)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def is_liaison(user: Any, subject: CareSubject) -> bool:
    uid = getattr(user, "pk", None)
    if uid is None or subject.liaison_id is None:
        return False
    return Person.objects.filter(pk=subject.liaison_id, user_id=uid).exists()


def may_view_person(user: Any, person: Person) -> bool:
    """Whether ``user`` may see ``person`` at all (their own record, or VIEW on their unit or party unit)."""
    uid = getattr(user, "pk", None)
    if uid is not None and person.user_id == uid:
        return True
    return any(access.can(user, Perm.VIEW, u) for u in access.units_of(person))


def may_see_health(user: Any, subject: CareSubject) -> bool:
    return has_care_data(user, subject.unit)


def may_record(user: Any, subject: CareSubject) -> bool:
    return is_liaison(user, subject) or has_care_data(user, subject.unit)


def may_manage(user: Any, unit: Unit) -> bool:
    return access.can(user, Perm.CHANGE, unit)


def require_manage(user: Any, unit: Unit) -> None:
    if not may_manage(user, unit):
        raise NotAllowed(Perm.CHANGE)


def require_record(user: Any, subject: CareSubject) -> None:
    if not may_record(user, subject):
        raise NotAllowed(Perm.CHANGE)


def visible_q(user: Any, prefix: str = "") -> Q:
    """Rows (reached through ``prefix``, e.g. ``"subject__"``) whose subject the user may see."""
    q = access.path_q(user, Perm.VIEW, f"{prefix}unit__path")
    uid = getattr(user, "pk", None)
    if uid is not None and not access.is_all_powerful(user):
        q |= Q(**{f"{prefix}liaison__user_id": uid})
    return q


def subjects(user: Any) -> QuerySet[CareSubject]:
    return CareSubject.objects.filter(visible_q(user))


def subject_get_or_404(user: Any, pk: int | str) -> CareSubject:
    s = (
        subjects(user)
        .select_related("unit", "liaison__unit", "liaison__party_unit", "person")
        .filter(pk=pk)
        .first()
    )
    if s is None:
        raise Http404
    return s


def subject_by_code_or_404(user: Any, code: str) -> CareSubject:
    s = (
        subjects(user)
        .select_related("unit", "liaison__unit", "liaison__party_unit", "person")
        .filter(code=code)
        .first()
    )
    if s is None:
        raise Http404
    return s


def unit_get_or_404(user: Any, code: str) -> Unit:
    u = access.scoped(Unit.objects.all(), user, Perm.VIEW).filter(code=code).first()
    if u is None:
        raise Http404
    return u


def run_get_or_404(user: Any, pk: int) -> Any:
    """A delivery run the user may see: by its unit, or (a liaison) when every line is to their own
    subjects."""
    from muster.care.models import DeliveryRun

    run = DeliveryRun.objects.filter(pk=pk).select_related("unit").first()
    if run is None:
        raise Http404
    if access.can(user, Perm.VIEW, run.unit):
        return run
    visible = subjects(user).filter(delivery_lines__run=run).distinct().count()
    total = CareSubject.objects.filter(delivery_lines__run=run).distinct().count()
    if not total or visible != total:
        raise Http404
    return run


def consolation_get_or_404(user: Any, pk: int) -> Any:
    from muster.care.models import Consolation

    c = (
        Consolation.objects.filter(visible_q(user, "subject__"), pk=pk)
        .select_related("subject__unit")
        .first()
    )
    if c is None:
        raise Http404
    return c


def donation_get_or_404(user: Any, pk: int) -> Any:
    from muster.care.models import Donation

    d = (
        Donation.objects.filter(access.path_q(user, Perm.VIEW, "unit__path"), pk=pk)
        .select_related("unit")
        .first()
    )
    if d is None:
        raise Http404
    return d


def receipt_get_or_404(user: Any, pk: int) -> Any:
    """A receipt, to whoever may see what it belongs to."""
    from muster.care.models import Receipt

    r = Receipt.objects.filter(pk=pk).first()
    if r is None:
        raise Http404
    if r.run_id is not None:
        run_get_or_404(user, r.run_id)
    elif r.consolation_id is not None:
        consolation_get_or_404(user, r.consolation_id)
    else:
        donation_get_or_404(user, r.donation_id or 0)
    return r


def receipt_target_or_404(user: Any, kind: str, pk: int) -> dict[str, Any]:
    """``{"run" | "consolation" | "donation": the object}`` for ``receipt_attach`` (404 out of scope)."""
    getters = {"run": run_get_or_404, "consolation": consolation_get_or_404, "donation": donation_get_or_404}
    if kind not in getters:
        raise Http404
    return {kind: getters[kind](user, pk)}
