"""The service log: after-hours, appointment and green-channel services."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Schema, Status

from muster.api.common import (
    BoundedDateTime,
    actor,
    required_unit,
)
from muster.outreach import services_service as svc
from muster.outreach.api.common import (
    WRITE_ERRORS,
    _as_of,
    _enterprises,
    _people,
    router,
)


class ServiceIn(Schema):
    at: BoundedDateTime
    kind: Literal["after_hours", "appointment", "green_channel"]
    unit: str
    matter: str
    staff: str
    enterprise: str | None = None
    taxpayer: str = ""
    outside_hours: bool = False


@router.post("/service-log", response={201: dict[str, Any], **WRITE_ERRORS}, summary="Log a service")
def log_service(request: HttpRequest, payload: ServiceIn) -> Any:
    user = actor(request)
    e = svc.service_log(
        actor=user,
        at=_as_of(payload.at),
        kind=payload.kind,
        unit=required_unit(user, payload.unit, "unit"),
        matter=payload.matter,
        staff=_people(user, [payload.staff], "staff")[0],
        enterprise=_enterprises(user, [payload.enterprise], "enterprise")[0] if payload.enterprise else None,
        taxpayer=payload.taxpayer,
        outside_hours=payload.outside_hours,
    )
    return Status(201, {"id": e.pk, "kind": e.kind, "outside_hours": e.outside_hours})
