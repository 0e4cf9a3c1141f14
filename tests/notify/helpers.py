"""Small helpers of the notification tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from muster.orgs.models import Person

API = "/api/v1/notify"


def post(client: Client, url: str, data: Any = None) -> Any:
    return client.post(API + url, data if data is not None else {}, content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(API + url, data, content_type="application/json")


def get(client: Client, url: str) -> Any:
    return client.get(API + url)


def link(person: Person, user: Any) -> Person:
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person
