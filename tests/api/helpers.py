"""Helpers for the API tests: HTTP shortcuts and the out-of-scope sets the leak checks use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.test import Client

API = "/api/v1"


# Everything outside a grant on 徐汇 (XH): codes and names that must never reach such a user.
OUT_OF_SCOPE = {
    "SH", "国家税务总局上海市税务局",
    "SH-JG", "市局机关",
    "HP", "黄浦区税务局",
    "SH-DW", "上海市税务局党委",
    "XH-DW", "徐汇区税务局党委",
    "XH-B01", "第一税务所党支部",
    "HP-DW", "黄浦区税务局党委",
    "HP0001", "李娜",
    "JG0001", "赵伟",
    "HP-T1", "抗疫急先锋",
    "HP-P1", "外滩街道",
}  # fmt: skip
IN_SCOPE = {"XH", "XH-S1", "XH-S2", "XH0001", "XH0002", "XH-T1", "XH-P1"}


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a decoded JSON document (keys and values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif value is not None:
        yield str(value)


def codes(page: dict[str, Any]) -> set[str]:
    return {item["code"] for item in page["items"]}


def post(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.post(API + url, data, content_type="application/json", **extra)


def patch(client: Client, url: str, data: Any, **extra: Any) -> Any:
    return client.patch(API + url, data, content_type="application/json", **extra)


def get(client: Client, url: str, **extra: Any) -> Any:
    return client.get(API + url, **extra)
