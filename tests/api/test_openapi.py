"""Security hole 8 (issue 22): the OpenAPI document must describe what the server parses.

Schemas are published under their class names, so two classes of the same name in different modules (the
party-life ``PostIn`` and the mobilization ``PostIn``, …) used to overwrite each other in
``components.schemas``: ``POST /api/v1/mobilize/posts`` sent as documented got 422. These tests check that
no two classes share a name, and that a body built from the document alone, for every operation that
takes a JSON body, passes the server's request parsing.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import pytest
from django.test import Client
from hypothesis import find, settings
from hypothesis import strategies as st
from ninja.errors import ValidationError as SchemaValidationError
from pydantic import BaseModel

from muster.api.urls import api
from muster.mobilize.models import Post

from .helpers import API, get, post

# ---------------------------------------------------------------- (a) one class per schema name


def _classes(tp: Any, seen: set[type]) -> None:
    """Every model and enum class ``tp`` refers to (through unions, lists, dicts, Annotated, fields)."""
    if typing.get_origin(tp) is not None:
        for arg in typing.get_args(tp):
            _classes(arg, seen)
        return
    if not inspect.isclass(tp) or tp in seen:
        return
    if issubclass(tp, BaseModel):
        seen.add(tp)
        for field in tp.model_fields.values():
            _classes(field.annotation, seen)
    elif issubclass(tp, Enum):
        seen.add(tp)


def schema_classes() -> set[type]:
    """The classes whose schemas the document can publish: everything the operations take and answer."""
    seen: set[type] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for op in path_view.operations:
                for model in op.models:
                    _classes(model, seen)
                for wrapper in op.response_models.values():  # ninja's one-field "NinjaResponseSchema"
                    if wrapper is not None:
                        _classes(wrapper.model_fields["response"].annotation, seen)
    # ninja's own containers of an operation's parameters are flattened, never published by name
    return {c for c in seen if not hasattr(c, "__ninja_param_source__")}


def test_no_two_schema_classes_share_a_name() -> None:
    classes = schema_classes()
    by_name: dict[str, set[type]] = {}
    for c in classes:
        by_name.setdefault(c.__name__, set()).add(c)
    shared = {n: sorted(f"{c.__module__}.{c.__qualname__}" for c in cs) for n, cs in by_name.items()}
    assert {n: where for n, where in shared.items() if len(where) > 1} == {}
    assert len(by_name) == len(classes)
    doc = api.get_openapi_schema()
    published = set(doc["components"]["schemas"])
    assert len(published) > 100 and published <= set(by_name)  # the walk saw every published schema
    assert {"PostIn", "ModelPostIn", "PersonIn", "AssigneeIn", "PointEntryOut", "EntryOut"} <= published


# ---------------------------------------------------------------- (b) documented bodies are accepted


class Example:
    """A value for a JSON schema of the document, built from the schema alone (refs resolved)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.components = doc["components"]["schemas"]

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def __call__(self, schema: dict[str, Any], *, full: bool) -> Any:
        schema = self.resolve(schema)
        if "anyOf" in schema or "oneOf" in schema:
            options = [self.resolve(s) for s in schema.get("anyOf") or schema["oneOf"]]
            return self(next(s for s in options if s.get("type") != "null"), full=full)
        if "allOf" in schema:
            return self(schema["allOf"][0], full=full)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "string":
            return self.string(schema)
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
            return min(max(1, low), schema.get("maximum", 1 << 30))
        if kind == "boolean":
            return True
        if kind == "array":
            return [self(schema.get("items", {}), full=full)] * max(1, schema.get("minItems", 1))
        if kind == "object" or "properties" in schema:
            required = set(schema.get("required", ()))
            return {
                name: self(sub, full=full)
                for name, sub in schema.get("properties", {}).items()
                if full or name in required
            }
        return 1  # any value (``{}``)

    @staticmethod
    def string(schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        if fmt == "date":
            return "2024-05-20"
        if fmt == "date-time":
            return "2024-05-20T09:00:00+08:00"
        if fmt == "time":
            return "09:00:00"
        if fmt == "email":
            return "someone@example.com"
        if "pattern" in schema:  # the simplest string that matches, the same every run
            return find(
                st.from_regex(schema["pattern"], fullmatch=True),
                lambda s: schema.get("minLength", 0) <= len(s) <= schema.get("maxLength", len(s)),
                settings=settings(database=None, derandomize=True),
            )
        return "x" * max(1, schema.get("minLength", 1))


def json_operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method, path, op


def url_for(example: Example, path: str, op: dict[str, Any]) -> str:
    """The path with documented values for its parameters, and the required query parameters."""
    query = []
    for p in op.get("parameters", []):
        value = example(p["schema"], full=False)
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(value))
        elif p["in"] == "query" and p.get("required"):
            query.append(f"{p['name']}={value}")
    return path + ("?" + "&".join(query) if query else "")


@pytest.fixture
def schema_rejections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What the request parser (not a service) refused during the test: ninja's ``ValidationError``s."""
    seen: list[Any] = []
    handler = api._exception_handlers[SchemaValidationError]

    def record(request: Any, exc: SchemaValidationError) -> Any:
        seen.append((request.method, request.get_full_path(), exc.errors))
        return handler(request, exc)

    monkeypatch.setitem(api._exception_handlers, SchemaValidationError, record)
    return seen


@pytest.fixture
def boss(world: Any, make_user: Callable[..., Any]) -> Client:
    c = Client()
    c.force_login(make_user("boss", is_superuser=True, is_staff=True))
    return c


def test_the_parser_refusal_is_seen(boss: Client, schema_rejections: list[Any]) -> None:
    """The detector of (b) works: a body against the document is refused by the parser, and recorded."""
    assert post(boss, "/mobilize/posts", {"kind": "model", "name": "x", "unit": "XH"}).status_code == 422
    assert schema_rejections and {e["loc"][0] for e in schema_rejections[0][2]} == {"body"}


@pytest.mark.parametrize("full", [False, True], ids=["required-fields", "all-fields"])
def test_every_documented_body_passes_the_parser(
    boss: Client, schema_rejections: list[Any], full: bool
) -> None:
    doc = get(boss, "/openapi.json").json()
    example = Example(doc)
    sent = []
    for method, path, op in json_operations(doc):
        body = example(op["requestBody"]["content"]["application/json"]["schema"], full=full)
        url = url_for(example, path, op)
        r = getattr(boss, method)(url, body, content_type="application/json")
        assert r.status_code < 500, (method, url, body, r.content[:300])
        sent.append((method, path))
    assert len(sent) >= 60  # every JSON body of the API, not a handful
    assert schema_rejections == []


def test_a_post_sent_as_documented_is_created(boss: Client) -> None:
    doc = get(boss, "/openapi.json").json()
    op = doc["paths"][API + "/mobilize/posts"]["post"]
    body = Example(doc)(op["requestBody"]["content"]["application/json"]["schema"], full=False)
    assert set(body) == {"code", "name", "kind", "unit"}
    body.update(code="XH-HOT", unit="XH")  # a new code and a real unit in scope; the rest as documented
    r = post(boss, "/mobilize/posts", body)
    assert r.status_code == 201, r.content[:500]
    assert Post.objects.filter(code="XH-HOT", unit__code="XH").exists()
    assert r.json()["code"] == "XH-HOT"
