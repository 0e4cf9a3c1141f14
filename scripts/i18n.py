"""Maintain the Simplified Chinese catalog.

    python scripts/i18n.py extract          # makemessages; prints how many entries lack a translation
    python scripts/i18n.py todo OUT.json [--match PATH_PREFIX]
                                            # untranslated msgids (with where they are used) to translate
    python scripts/i18n.py apply IN.json    # {msgid: msgstr or [plural forms]} into the catalog, compiled

English is the source language, so the English side is complete by construction.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "src" / "muster"
PO = PKG / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
DJANGO_ADMIN = ROOT / ".venv" / "bin" / "django-admin"


def _run(*args: str) -> None:
    subprocess.run(  # noqa: S603
        [str(DJANGO_ADMIN), *args, "--settings=muster.settings", "--pythonpath=.."], cwd=PKG, check=True
    )


def extract() -> None:
    PO.parent.mkdir(parents=True, exist_ok=True)
    _run("makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-wrap", "--ignore=locale/*")
    po = polib.pofile(str(PO))
    missing = [e for e in po if not e.translated() or "fuzzy" in e.flags]
    print(f"{len(po)} entries, {len(missing)} untranslated or fuzzy")


def todo(out: str, match: str = "") -> None:
    po = polib.pofile(str(PO))
    items = []
    for e in po:
        if e.translated() and "fuzzy" not in e.flags:
            continue
        where = [f for f, _line in e.occurrences]
        if match and not any(w.startswith(match) for w in where):
            continue
        items.append(
            {"msgid": e.msgid, "plural": e.msgid_plural or None, "context": e.msgctxt, "where": where}
        )
    Path(out).write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(items)} entries to translate written to {out}")


def apply(src: str) -> None:
    data = json.loads(Path(src).read_text(encoding="utf-8"))
    po = polib.pofile(str(PO))
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    done = 0
    for e in po:
        if e.msgid not in data:
            continue
        value = data[e.msgid]
        if e.msgid_plural:
            forms = value if isinstance(value, list) else [value]
            e.msgstr_plural = {0: forms[0]}
        else:
            e.msgstr = value if isinstance(value, str) else value[0]
        if "fuzzy" in e.flags:
            e.flags.remove("fuzzy")
        done += 1
    po.save(str(PO))
    po.save_as_mofile(str(PO.with_suffix(".mo")))
    missing = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
    print(f"applied {done}; {len(missing)} still untranslated")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "extract"
    if cmd == "extract":
        extract()
    elif cmd == "todo":
        match = sys.argv[sys.argv.index("--match") + 1] if "--match" in sys.argv else ""
        todo(sys.argv[2], match)
    elif cmd == "apply":
        apply(sys.argv[2])
    else:
        raise SystemExit(__doc__)
