"""The staff register's and the ledger's import modules and rostering's services became packages, and the
staff register and branch membership lost the name "roster" (issue 23, items 3 and 4).

What callers, stored rows and API clients relied on must not have moved: the names the packages re-export,
the importers the pipeline runs, the path of the background solve task (queued rows and the worker's
recovery policy name it), and the register's API operation ids.
"""

from __future__ import annotations

from pathlib import Path

from django.test import Client
from django.utils.module_loading import import_string

import muster
from muster.mobilize import ledger_io
from muster.mobilize.ledger_io import apply as ledger_apply_mod
from muster.mobilize.ledger_io import importer as ledger_importer
from muster.mobilize.ledger_io import plan as ledger_plan_mod
from muster.mobilize.ledger_io import schema as ledger_schema
from muster.orgs import people_io
from muster.orgs.people_io import apply as people_apply_mod
from muster.orgs.people_io import export as people_export_mod
from muster.orgs.people_io import importer as people_importer
from muster.orgs.people_io import plan as people_plan_mod
from muster.orgs.people_io import schema as people_schema
from muster.orgs.people_io import template as people_template_mod
from muster.partylife import membership
from muster.roster import services as roster_services
from muster.roster.services import plan, policy, proposal, publish, solve
from muster.tabular.pipeline import importer
from muster.worker.recovery import policy_for

SRC = Path(muster.__file__).resolve().parent
PACKAGES = ("orgs/people_io", "mobilize/ledger_io", "roster/services")


def test_the_old_modules_are_gone_and_no_module_of_the_packages_is_long() -> None:
    for package in PACKAGES:
        assert not (SRC / f"{package}.py").exists()
        modules = sorted((SRC / package).glob("*.py"))
        assert len(modules) >= 5, package
        for module in modules:
            assert len(module.read_text(encoding="utf-8").splitlines()) <= 800, module


def test_the_packages_re_export_what_callers_use() -> None:
    assert people_io.people_import is people_importer.people_import
    assert people_io.people_export is people_export_mod.people_export
    assert people_io.people_template is people_template_mod.people_template
    assert people_io.people_plan is people_plan_mod.people_plan
    assert people_io.people_apply is people_apply_mod.people_apply
    assert people_io.PeopleImportResult is people_schema.PeopleImportResult
    assert people_io.require is people_plan_mod.require
    assert ledger_io.ledger_import is ledger_importer.ledger_import
    assert ledger_io.ledger_plan is ledger_plan_mod.ledger_plan
    assert ledger_io.ledger_apply is ledger_apply_mod.ledger_apply
    assert ledger_io.describe_time_error is ledger_schema.describe_time_error
    assert ledger_io.kind_choices is ledger_schema.kind_choices
    assert roster_services.plan_create is plan.plan_create
    assert roster_services.solve_start is solve.solve_start
    assert roster_services.proposal_edit is proposal.proposal_edit
    assert roster_services.plan_publish is publish.plan_publish
    assert roster_services.plan_get_or_404 is policy.plan_get_or_404
    # reached by the views, the API and tests past the public names
    assert roster_services._may_manage is policy._may_manage
    assert roster_services._Progress is solve._Progress
    assert roster_services._fmt is publish._fmt
    for package in (people_io, ledger_io, roster_services):
        assert set(package.__all__) <= set(dir(package)), package.__name__


def test_the_pipeline_runs_the_packages_importers_under_their_stored_keys() -> None:
    register, ledger = importer("roster"), importer("ledger")
    assert register is people_io.IMPORTER and ledger is ledger_io.IMPORTER
    assert register.plan is people_io.people_plan and register.apply is people_io.people_apply
    assert register.export is people_io.people_export and register.template is people_io.people_template
    assert ledger.plan is ledger_io.ledger_plan and ledger.apply is ledger_io.ledger_apply


def test_the_solve_task_keeps_the_path_queued_rows_name() -> None:
    path = "muster.roster.services.solve_task"
    assert roster_services.solve_task.module_path == path
    assert import_string(path) is roster_services.solve_task is solve.solve_task
    recovery = policy_for(path)
    assert recovery is not None and recovery.max_attempts == roster_services.SOLVE_ATTEMPTS


def test_roster_means_rostering_only() -> None:
    for old in ("roster_import", "roster_export", "roster_template", "roster_plan", "roster_apply"):
        assert not hasattr(people_io, old), old
    assert not hasattr(people_io, "RosterImportResult")
    assert not hasattr(membership, "roster_at") and not hasattr(membership, "RosterEntry")
    assert callable(membership.members_on) and membership.MemberEntry


def test_the_register_api_keeps_its_paths_and_operation_ids(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    ids = {
        (path, method): op["operationId"]
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    }
    assert ids[("/api/v1/people/import", "post")] == "people_import"
    assert ids[("/api/v1/people/import/confirm", "post")] == "people_import_confirm"
    assert ids[("/api/v1/people/export", "get")] == "people_export"
    assert ids[("/api/v1/roster/import", "post")] == "roster_import_alias"
    assert ids[("/api/v1/roster/export", "get")] == "roster_export_alias"
