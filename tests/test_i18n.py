"""Chinese by default whatever the browser says; English by the switch; both catalogs complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import muster

LOCALE = Path(muster.__file__).parent / "locale"


def test_default_language_ignores_the_browser(org, make_user, login) -> None:
    c = login(make_user("v", "viewer", org.xuhui))
    r = c.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r["Content-Language"] == "zh-hans"


def test_language_switch_sets_english(db) -> None:
    c = Client()
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert r.status_code == 302
    r = c.get("/accounts/login/")
    assert r["Content-Language"] == "en"
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert c.get("/accounts/login/")["Content-Language"] == "zh-hans"


def _entries(po: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry of a .po file (plural forms folded in)."""
    out = []
    for block in re.split(r"\n\s*\n", po):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        ids = re.findall(r'^msgid(?:_plural)? ((?:".*"\n?)+)', block, re.M)
        strs = re.findall(r"^msgstr(?:\[\d\])? ((?:\".*\"\n?)+)", block, re.M)
        if not ids:
            continue

        def join(s: str) -> str:
            return "".join(re.findall(r'"(.*)"', s))

        msgid = join(ids[0])
        if msgid == "":
            continue  # header
        out.append((msgid, "".join(join(s) for s in strs) if all(join(s) for s in strs) else "", fuzzy))
    return out


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_chinese_catalog_is_complete(domain: str) -> None:
    po_path = LOCALE / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    if domain == "djangojs" and not po_path.exists():
        pytest.skip("no JavaScript strings")
    entries = _entries(po_path.read_text(encoding="utf-8"))
    assert len(entries) > 100
    missing = [m for m, s, fuzzy in entries if not s or fuzzy]
    assert missing == [], f"untranslated or fuzzy: {missing[:20]}"
    mo = po_path.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po_path.stat().st_mtime - 1, "compile the catalog"
