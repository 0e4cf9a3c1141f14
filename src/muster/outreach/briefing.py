"""The briefing sentence of the outreach figures, in the seed's style (pure Python, no Django).

Seed 003: "截至目前，已累计开展调研2160次，发现问题197个，问题解决率91.8%". The rate is written as
``muster.outreach.rates`` writes it (cut, not rounded); with no problems the clause is left out.
"""

from __future__ import annotations

from muster.outreach import rates


def sentence(*, visits: int, problems: int, resolved: int, lang: str = "zh", when: str = "") -> str:
    """``when``: "截至2018年10月12日" / "As of 12 October 2018"; empty: "截至目前" / "So far"."""
    rate = rates.percent(resolved, problems)
    if lang.startswith("zh"):
        parts = [f"{when or '截至目前'}，已累计开展调研{visits}次"]
        if problems:
            parts.append(f"发现问题{problems}个")
            parts.append(f"问题解决率{rate}%")
        return "，".join(parts) + "。"
    text = f"{when or 'So far'}, {visits:,} visits and surveys have been made"
    if problems:
        noun = "problem" if problems == 1 else "problems"
        text += f", {problems:,} {noun} found, with a resolution rate of {rate}%"
    return text + "."
