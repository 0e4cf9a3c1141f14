"""The service and API modules of mobilize and partylife became packages by sub-domain (issue 23, item 4).

What callers and API clients relied on must not have moved: the OpenAPI operation ids (ninja derives them
from a view's module, which the split changed), the names the package re-exports, and a patch in a test
reaches the submodule that looks the name up.
"""

from __future__ import annotations

from django.test import Client

from muster.api.urls import api
from muster.mobilize import api as mobilize_api
from muster.mobilize import policy
from muster.mobilize import services as mobilize_services
from muster.mobilize.services import checkin, common, ledger
from muster.partylife import api as partylife_api
from muster.partylife import services as partylife_services


def _operation_ids(router: object, package: str) -> dict[str, str]:
    """The operation ids of the views written in ``package`` (not those mounted from a shared factory)."""
    ids = {}
    for path_view in router.path_operations.values():  # type: ignore[attr-defined]
        for op in path_view.operations:
            if op.view_func.__module__.startswith(package + "."):
                ids[op.view_func.__name__] = op.operation_id or api.get_openapi_operation_id(op)
    return ids


def test_operation_ids_are_those_of_the_single_modules_before_the_split() -> None:
    for router, package in (
        (mobilize_api.router, "muster.mobilize.api"),
        (partylife_api.router, "muster.partylife.api"),
    ):
        prefix = package.replace(".", "_") + "_"
        ids = _operation_ids(router, package)
        assert len(ids) > 20
        wrong = {name: op_id for name, op_id in ids.items() if op_id != prefix + name}
        assert not wrong


def test_the_published_document_carries_those_ids(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    ids = {op["operationId"] for methods in doc["paths"].values() for op in methods.values()}
    assert "muster_mobilize_api_dispatch" in ids
    assert "muster_mobilize_api_rollcall" in ids
    assert "muster_partylife_api_create_meeting" in ids
    assert not any(i.startswith(("muster_mobilize_api_common", "muster_partylife_api_common")) for i in ids)


def test_the_packages_re_export_what_callers_use() -> None:
    assert mobilize_services.entry_record is ledger.entry_record
    assert mobilize_services.checkin_record is checkin.checkin_record
    assert mobilize_services.ConflictWarning is common.ConflictWarning
    # reached by other apps and the ledger import past the public names
    assert mobilize_services._record is ledger._record
    assert mobilize_services._lock_people is common._lock_people
    assert mobilize_services._leads is policy.leads
    assert mobilize_services.may_lead_shift is policy.may_lead_shift
    for name in partylife_services.__all__:
        assert getattr(partylife_services, name) is not None, name
    assert set(mobilize_services.__all__) <= set(dir(mobilize_services))
