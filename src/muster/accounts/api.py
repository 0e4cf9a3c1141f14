"""The caller's own account over the API: who am I, my role grants, my API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from muster.accounts.models import ApiToken
from muster.accounts.services import token_create, token_revoke
from muster.api.common import ErrorOut, actor
from muster.orgs.models import RoleGrant

router = Router(tags=["account"])


class GrantOut(Schema):
    unit: str
    unit_name: str
    role: str
    role_label: str


class MeOut(Schema):
    username: str
    is_superuser: bool
    person: str | None = Field(None, description="the caller's own staff number, if linked")
    grants: list[GrantOut]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="the token itself: shown only in this response")


class TokenIn(Schema):
    name: str = Field("api", max_length=80)


def _token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.pk,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


@router.get("/me", response=MeOut, summary="The caller and their role grants")
def me(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    grants = RoleGrant.objects.filter(user_id=user.pk).select_related("unit").order_by("unit__path", "role")
    person = getattr(user, "person", None)
    return {
        "username": user.get_username(),
        "is_superuser": user.is_superuser,
        "person": person.code if person is not None else None,
        "grants": [
            {
                "unit": g.unit.code,
                "unit_name": g.unit.name,
                "role": g.role,
                "role_label": g.get_role_display(),
            }
            for g in grants
        ],
    }


@router.get("/tokens", response=list[TokenOut], summary="The caller's API tokens")
def list_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    user = actor(request)
    return [_token_out(t) for t in ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")]


@router.post("/tokens", response={201: TokenCreatedOut, 422: ErrorOut}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    user = actor(request)
    token, raw = token_create(actor=user, user=user, name=payload.name.strip())
    return Status(201, {**_token_out(token), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None, 404: ErrorOut}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    user = actor(request)
    token = get_object_or_404(ApiToken, pk=token_id, user_id=user.pk)
    if token.revoked_at is None:
        token_revoke(actor=user, token=token)
    return Status(204, None)
