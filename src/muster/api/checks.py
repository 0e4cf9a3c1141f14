"""Checks every API request passes before its operation runs, and the bounded whole-number type.

``MusterAPI`` refuses a request whose path or query parameters or JSON body hold a string that no field may
store — a control character (other than tab, line feed, carriage return) or a lone surrogate ("\\ud800",
which no UTF-8 can carry and which made the database layer fail with a 500) — with the rule and the
message of ``muster.orgs.rules`` that the services, the web forms and the importers apply too. The services
check their own fields again (for the web forms, the importers and the command line); this is the one net
under every endpoint of every app.

``IntRange`` bounds a whole number of an input schema: the OpenAPI document shows ``minimum`` and
``maximum``, and a value outside (2**63 included) gets the rules' own message as a 422.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from muster.orgs import rules
from muster.orgs.validators import InvalidValue


def check_request_text(request: HttpRequest) -> None:
    """Raise ``ValidationError`` ({name: [message]}) if a path or query parameter, or a member of the JSON
    body, holds text no field may store (a NUL in a code of the path failed in PostgreSQL with a 500 too)."""
    problems: dict[str, list[str]] = {}
    match = request.resolver_match
    params = [*(match.kwargs.items() if match is not None else ()), *request.GET.items()]
    for name, value in params:
        if isinstance(value, str) and (problem := rules.text_problem(value, name)):
            problems.setdefault(name, []).append(problem)
    if request.body and "json" in (request.content_type or ""):
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None  # the operation's own parser answers for a body that is not JSON
        for name, messages in rules.json_text_problems(data).items():
            problems.setdefault(name, []).extend(messages)
    if problems:
        raise ValidationError(problems)


class MusterAPI(NinjaAPI):
    """The API: ``check_request_text`` runs for each operation after authentication, before its parameters
    are read.

    (Ninja creates an operation's temporal response inside the operation's error handling, after the
    authentication checks and before it parses the parameters: an error raised here is answered by the
    API's exception handlers, like any error of the operation.)
    """

    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        check_request_text(request)
        return super().create_temporal_response(request)


@dataclass(frozen=True)
class IntRange:
    """``Annotated[int, IntRange("seats", *rules.SEATS)]``: a whole number from ``lo`` to ``hi``."""

    key: str
    lo: int
    hi: int

    def check(self, value: int) -> int:
        try:
            return rules.clean_int(value, self.key, (self.lo, self.hi))
        except InvalidValue as exc:
            raise PydanticCustomError("out_of_range", str(exc).replace("{", "(").replace("}", ")")) from None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        target = handler.resolve_ref_schema(out)
        target.update(minimum=self.lo, maximum=self.hi)
        return out
