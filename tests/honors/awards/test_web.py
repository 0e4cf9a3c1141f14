"""Awards and commendations on the web, at /honors/awards/ under party life's tabs: propose with
evidence, decide up the chain, the evidence download scoped like the honor; the old /party/honors/
addresses redirect there."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from muster.honors import awards
from muster.honors.models import Honor
from muster.points.queries import statement

from .conftest import Party, propose

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client_for(user: Any, language: str = "en") -> Client:
    c = Client()
    c.cookies["django_language"] = language
    c.force_login(user)
    return c


def test_honor_propose_and_decide_up_the_chain(party: Party) -> None:
    sec = client_for(party.sec_user)
    r = sec.post(
        reverse("honors:award_create"),
        {
            "kind": "award",
            "name": "上海市优秀共产党员",
            "level": "city",
            "awarded_on": "2025-06-01",
            "branch": party.branch.pk,
            "person": party.m1.code,
            "issuer": "中共上海市委",
            "evidence": SimpleUploadedFile("证书.jpg", b"\xff\xd8\xff jpeg", "image/jpeg"),
        },
    )
    honor = Honor.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("honors:award_detail", args=[honor.pk])
    assert honor.status == "in_approval" and honor.evidence.name.endswith(".jpg")
    url = reverse("honors:award_detail", args=[honor.pk])
    # a city-level award climbs two committees: 徐汇 first, then the city
    assert 'id="decide-form"' not in sec.get(url).content.decode()
    assert client_for(party.hp_user).get(url).status_code == 404
    assert client_for(party.sec_user).post(url, {"decision": "approve"}).status_code == 403
    committee = client_for(party.committee_user)
    assert 'id="decide-form"' in committee.get(url).content.decode()
    assert committee.post(url, {"decision": "approve", "opinion": "同意"}).status_code == 302
    honor.refresh_from_db()
    assert honor.status == "in_approval"
    city = client_for(party.city_user)
    r = city.post(url, {"decision": "reject"})
    assert "Say why the honor is rejected." in r.content.decode()
    assert city.post(url, {"decision": "approve"}).status_code == 302
    honor.refresh_from_db()
    assert honor.status == "approved"
    assert statement(party.sec_user, party.m1, 2025).total == 10  # award.city
    body = sec.get(url).content.decode()
    assert body.count("approved</span>") == 2 and "同意" in body
    # evidence is required: neither a file nor a description
    r = sec.post(
        reverse("honors:award_create"),
        {
            "kind": "commendation",
            "name": "通报表扬",
            "level": "unit",
            "awarded_on": "2025-06-01",
            "branch": party.branch.pk,
            "unit": "XH-B01",
        },
    )
    assert "Attach the evidence or describe where it is." in r.content.decode()
    r = sec.post(
        reverse("honors:award_create"),
        {
            "kind": "award",
            "name": "x",
            "level": "unit",
            "awarded_on": "2025-06-01",
            "branch": party.branch.pk,
            "person": "NOBODY",
            "evidence_note": "x",
        },
    )
    assert r.status_code == 200 and "No person with the staff number NOBODY was found." in r.content.decode()
    assert Honor.objects.count() == 1


def _propose(c: Client, evidence: SimpleUploadedFile, party: Party) -> Any:
    return c.post(
        reverse("honors:award_create"),
        {
            "kind": "award",
            "name": "岗位能手",
            "level": "unit",
            "awarded_on": "2024-06-01",
            "branch": party.branch.pk,
            "person": party.m1.code,
            "evidence": evidence,
        },
    )


def test_honor_evidence_upload_checked_and_download_scoped(party: Party, settings: Any) -> None:
    settings.MUSTER_EVIDENCE_MAX_BYTES = 1024
    c = client_for(party.sec_user)
    r = _propose(c, SimpleUploadedFile("证书.pdf", b"MZ\x90\x00" + b"\x00" * 40), party)
    assert r.status_code == 200 and not Honor.objects.exists()
    assert "The evidence must be a PDF or a photo" in r.content.decode()
    r = _propose(c, SimpleUploadedFile("big.pdf", PDF + b"0" * 2000), party)
    assert not Honor.objects.exists()
    assert "The file is too large" in r.content.decode()
    r = _propose(c, SimpleUploadedFile("证书.exe", PDF), party)  # judged by content, renamed
    assert r.status_code == 302
    h = Honor.objects.get()
    assert h.evidence.name.endswith(".pdf") and "证书" not in h.evidence.name
    detail = c.get(reverse("honors:award_detail", args=[h.pk])).content.decode()
    url = reverse("honors:award_evidence", args=[h.pk])
    assert f'href="{url}"' in detail
    got = c.get(url)
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert got["X-Content-Type-Options"] == "nosniff" and "attachment" in got["Content-Disposition"]
    assert client_for(party.committee_user).get(url).status_code == 200
    assert client_for(party.hp_user).get(url).status_code == 404
    # replacing the evidence (a photo) before the first decision, through the service the API uses
    awards.honor_evidence_attach(actor=party.sec_user, honor=h, evidence=SimpleUploadedFile("p.png", PNG))
    h.refresh_from_db()
    assert h.evidence.name.endswith(".png")


def test_the_list_under_party_life_tabs_in_chinese_and_scoped(party: Party) -> None:
    h = propose(party, kind="commendation", name="通报表扬", level="unit")
    page = client_for(party.sec_user, "zh-hans").get(reverse("honors:awards"))
    html = page.content.decode()
    assert page.status_code == 200 and '<html lang="zh-hans">' in html
    assert 'id="partylife-tabs"' in html and "通报表扬" in html and 'id="honor-create-link"' in html
    # the menu shows where the page is: party life, not the volunteer record (which stays lit on its own page)
    member = client_for(party.alice_user)
    nav = member.get(reverse("honors:awards")).content.decode()
    party_life = f'class="nav-link active" href="{reverse("partylife:index")}" id="nav-partylife"'
    record = f'class="nav-link active" href="{reverse("honors:my_record")}" id="nav-honors"'
    assert party_life in nav and record not in nav
    nav = member.get(reverse("honors:my_record")).content.decode()
    assert record in nav and party_life not in nav
    assert f'href="{reverse("honors:award_detail", args=[h.pk])}"' in html
    assert "通报表扬" not in client_for(party.hp_user).get(reverse("honors:awards")).content.decode()
    assert (
        "通报表扬"
        not in client_for(party.sec_user)
        .get(reverse("honors:awards"), {"status": "approved"})
        .content.decode()
    )
    # a viewer sees the list but may not propose (403 on the form)
    viewer = client_for(party.viewer)
    assert 'id="honor-create-link"' not in viewer.get(reverse("honors:awards")).content.decode()
    assert viewer.get(reverse("honors:award_create")).status_code == 403
    for bad in (
        f"/honors/awards/{2**63}/",
        "/honors/awards/" + "9" * 30 + "/",
        "/honors/awards/999999/evidence/",
    ):
        assert client_for(party.sec_user).get(bad).status_code == 404, bad


def test_the_old_party_life_addresses_redirect(party: Party) -> None:
    h = propose(party)
    c = client_for(party.sec_user)
    for old, new in (
        ("/party/honors/?status=approved", reverse("honors:awards") + "?status=approved"),
        ("/party/honors/new/", reverse("honors:award_create")),
        (f"/party/honors/{h.pk}/", reverse("honors:award_detail", args=[h.pk])),
        (f"/party/honors/{h.pk}/evidence/", reverse("honors:award_evidence", args=[h.pk])),
    ):
        r = c.get(old)
        assert r.status_code == 301 and r["Location"] == new, old
        r = c.post(old, {"name": "x"})  # an old form's POST keeps its method and body
        assert r.status_code == 308 and r["Location"] == new, old
    assert reverse("partylife:honors") == "/party/honors/"
