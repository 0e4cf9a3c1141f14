"""A bounded, deterministic Schemathesis run over the whole API (issue 22, hole 6): no input may answer 500.

The OpenAPI document is loaded in process from the WSGI application (no server) and every operation in it
is called with generated requests: valid ones and ones that break the schema (wrong types, missing fields,
values past the bounds), with the boundary values of Schemathesis' coverage phase on top for the
superuser. Two callers with roles: a manager of a district (scoped reads, 403 and 404 paths) and a
superuser (the write paths). The only check is ``not_a_server_error``; 4xx answers are the point.

Bounded for CI: a fixed seed and ``deterministic`` generation (the same requests every run), a few
examples per operation, no deadline, no example database. No operation is excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from muster.accounts.services import token_create
from muster.wsgi import application

EXAMPLES_PER_OPERATION = 5


def _config(*, coverage: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 22,
            "suppress-health-check": ["all"],  # a busy 2-core CI machine is slow; the examples stay the same
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,  # the callers authenticate with a real token
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {  # the boundary values of every parameter (page sizes, years, dates, lengths)
                    "enabled": coverage,
                    "generation": {"mode": "positive"},  # the fuzzing phase sends the invalid ones
                    "unexpected-methods": [],  # 405s say nothing about the operations' inputs
                    "generate-duplicate-query-parameters": False,
                },
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


SCHEMA_PATH = "/api/v1/openapi.json"
manager_schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=_config(coverage=False))
superuser_schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=_config(coverage=True))


def _bearer(user: Any) -> dict[str, str]:
    _token, raw = token_create(actor=user, user=user, name="schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI calls go around Django's test client, which is what usually keeps a request from closing
    the connection at its end; on PostgreSQL that connection holds the test's transaction (its
    autocommit is off, so ``close_old_connections`` would close it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def manager(org: Any, make_user: Callable[..., Any]) -> dict[str, str]:
    return _bearer(make_user("fuzz-manager", "manager", org.xuhui))


@pytest.fixture
def superuser(org: Any, make_user: Callable[..., Any]) -> dict[str, str]:
    return _bearer(make_user("fuzz-admin", is_superuser=True, is_staff=True))


def _overflows(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Requests that only the API's last net (``OverflowError`` → 400) kept from a 500: bounds missing."""
    return [r.getMessage() for r in caplog.records if r.name == "muster.api.urls"]


@manager_schema.parametrize()
def test_no_server_error_as_district_manager(
    case: Any, manager: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    case.call_and_validate(headers=manager, checks=[not_a_server_error])
    assert _overflows(caplog) == []


@superuser_schema.parametrize()
def test_no_server_error_as_superuser(
    case: Any, superuser: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    case.call_and_validate(headers=superuser, checks=[not_a_server_error])
    assert _overflows(caplog) == []


def test_the_run_covers_the_whole_document() -> None:
    """Every documented operation is fuzzed (none filtered out), so a new endpoint joins the run."""
    from muster.api.urls import api

    doc = api.get_openapi_schema()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    for schema in (manager_schema, superuser_schema):
        fuzzed = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
        assert fuzzed == documented and len(fuzzed) > 100


def test_the_callers_get_through(manager: dict[str, str], superuser: dict[str, str]) -> None:
    """The run is not answered by a refusal at the door (host, authentication) for every request."""
    for schema, auth, expected in (
        (manager_schema, manager, {"XH", "XH-S1"}),
        (superuser_schema, superuser, {"SH", "SH-DW"}),
    ):
        units = schema["/api/v1/units"]["GET"].Case(query={"page_size": 500}).call(headers=auth)
        assert units.status_code == 200
        assert expected <= {u["code"] for u in units.json()["items"]}
        refused = schema["/api/v1/units"]["POST"].Case(body={"code": "X", "name": "X", "kind": "x"}).call()
        assert refused.status_code == 401  # without the token: the run's 4xx are not this
