"""A page links to an import page (/import/<key>/) only for a user that page would not refuse."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_ledger_import_tab_shows_for_a_manager_and_leads_to_a_page(org, as_role) -> None:
    c = as_role("manager", org.xuhui)
    html = c.get("/mobilize/batches/").content.decode()
    assert 'id="tab-ledger-import"' in html and 'href="/import/ledger/"' in html
    assert c.get("/import/ledger/").status_code == 200


def test_a_viewer_sees_no_import_tab_and_the_page_refuses_them(org, as_role) -> None:
    c = as_role("viewer", org.xuhui)
    html = c.get("/mobilize/batches/").content.decode()
    assert 'id="tab-ledger-import"' not in html
    assert c.get("/import/ledger/").status_code == 403
