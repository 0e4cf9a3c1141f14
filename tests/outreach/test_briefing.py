"""The outreach briefing sentence in the seed's style."""

from __future__ import annotations

from muster.outreach.briefing import sentence


def test_seed_sentence_zh_and_en() -> None:
    assert (
        sentence(visits=2160, problems=197, resolved=181)
        == "截至目前，已累计开展调研2160次，发现问题197个，问题解决率91.8%。"
    )
    assert sentence(visits=2160, problems=197, resolved=181, lang="en", when="As of 12 October 2018") == (
        "As of 12 October 2018, 2,160 visits and surveys have been made, 197 problems found, "
        "with a resolution rate of 91.8%."
    )
    assert sentence(visits=3, problems=0, resolved=0) == "截至目前，已累计开展调研3次。"
