"""Fixtures for the mobilization API: the core's cast and batch, logged-in clients, JSON shortcuts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from muster.orgs.access import SYSTEM
from muster.orgs.models import Partner
from muster.orgs.services import partner_create
from tests.mobilize.conftest import Batch, Cast, at, batch, cast, link  # noqa: F401  (fixtures reused)

API = "/api/v1/mobilize"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def partner(org: Any) -> Partner:
    return partner_create(actor=SYSTEM, code="XH-P1", name="宛平社区", kind="community", unit=org.xuhui)


class Api:
    """A logged-in client speaking JSON to /api/v1/mobilize."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(API + url, params)

    def post(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self.client.post(API + url, data or {}, content_type="application/json", **extra)

    def patch(self, url: str, data: Any) -> Any:
        return self.client.patch(API + url, data, content_type="application/json")

    def delete(self, url: str) -> Any:
        return self.client.delete(API + url)


@pytest.fixture
def as_(login: Callable[[Any], Client]) -> Callable[[Any], Api]:
    return lambda user: Api(login(user))


__all__ = ["API", "Api", "Batch", "Cast", "at", "link"]
