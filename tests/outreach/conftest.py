"""Outreach fixtures: a few enterprises under the 徐汇 tax office of the shared ``org``."""

from __future__ import annotations

from typing import Any

import pytest

from muster.orgs.access import SYSTEM
from muster.outreach import services
from muster.outreach.models import Enterprise

# Real, published codes (their check characters are right).
VALID_CODES = ["91350100M000100Y43", "91110000802100433B", "91310000132200821H", "91440300192317458F"]


@pytest.fixture
def ent(org: Any) -> Enterprise:
    return services.enterprise_create(
        actor=SYSTEM,
        credit_code=VALID_CODES[0],
        name="上海某科技有限公司",
        unit=org.xuhui_office,
        industry="软件和信息技术服务业",
        park="漕河泾开发区",
        building="1号楼",
        size="small",
    )
