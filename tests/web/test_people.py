"""The people list: search and filters (live with htmx), pagination, and personal data masking."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from muster.orgs.access import SYSTEM
from muster.orgs.models import Team
from muster.orgs.services import person_create


def _codes(response) -> list[str]:
    return [p.code for p in response.context["page"].object_list]


@pytest.mark.django_db
def test_filters(org, as_role) -> None:
    person_create(
        actor=SYSTEM,
        code="XH0003",
        name="刘洋",
        unit=org.xuhui_office,
        employment_status="retired",
        political_status="member",
        tags=["老同志"],
    )
    c = as_role("admin", org.root)
    url = reverse("web:people")
    assert _codes(c.get(url)) == ["HP0001", "JG0001", "XH0001", "XH0002", "XH0003"]
    assert _codes(c.get(url, {"q": "王"})) == ["XH0002"]
    assert _codes(c.get(url, {"q": "xh000"})) == ["XH0001", "XH0002", "XH0003"]
    assert _codes(c.get(url, {"unit": org.xuhui.pk})) == ["XH0001", "XH0002", "XH0003"]
    assert _codes(c.get(url, {"unit": org.xuhui_office.pk})) == ["XH0002", "XH0003"]
    assert _codes(c.get(url, {"political_status": "member"})) == ["XH0001", "XH0003"]
    assert _codes(c.get(url, {"employment_status": "retired"})) == ["XH0003"]
    assert _codes(c.get(url, {"team": Team.objects.get(code="XH-T1").pk})) == ["XH0001"]
    assert _codes(c.get(url, {"tag": "青年"})) == ["XH0001"]
    assert _codes(c.get(url, {"tag": "老同志", "unit": org.xuhui.pk, "q": "刘"})) == ["XH0003"]
    r = c.get(url, {"political_status": "member"})
    assert r.context["page"].paginator.count == 2


@pytest.mark.django_db
def test_party_unit_filter_uses_the_party_subtree(org, make_user, login) -> None:
    c = login(make_user("su", is_superuser=True))
    r = c.get(reverse("web:people"), {"unit": org.xuhui_committee.pk})
    assert _codes(r) == ["XH0001"]


@pytest.mark.django_db
def test_filter_choices_are_scoped(org, as_role, huangpu_team) -> None:
    person_create(actor=SYSTEM, code="HP0002", name="周杰", unit=org.huangpu, tags=["黄浦专属"])
    c = as_role("viewer", org.xuhui)
    form = c.get(reverse("web:people")).context["form"]
    assert {u.code for u in form.fields["unit"].queryset} == {"XH", "XH-S1"}
    assert {t.code for t in form.fields["team"].queryset} == {"XH-T1"}
    tags = [value for value, _label in form.fields["tag"].choices]
    assert "青年" in tags and "黄浦专属" not in tags
    # A unit outside the scope given by hand is not a valid choice: it does not widen the search.
    r = c.get(reverse("web:people"), {"unit": org.huangpu.pk})
    assert "HP0001" not in _codes(r) and "HP0002" not in _codes(r)


@pytest.mark.django_db
def test_live_update_returns_only_the_results(org, as_role) -> None:
    c = as_role("viewer", org.xuhui)
    full = c.get(reverse("web:people")).content.decode()
    # The filter form drives the results block with htmx and pushes the URL.
    assert 'hx-target="#people-results"' in full and 'hx-push-url="true"' in full
    part = c.get(reverse("web:people"), {"q": "张"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="people-results")
    html = part.content.decode()
    assert "<html" not in html and "张丽" in html and "王强" not in html
    # A history restore (htmx without a target) gets the full page.
    r = c.get(
        reverse("web:people"), {"q": "张"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in r.content.decode()


@pytest.mark.django_db
def test_pagination_keeps_the_filters(org, as_role) -> None:
    for i in range(55):
        person_create(actor=SYSTEM, code=f"XH2{i:03d}", name=f"批量{i}", unit=org.xuhui_office, tags=["批量"])
    c = as_role("viewer", org.xuhui)
    r = c.get(reverse("web:people"), {"tag": "批量"})
    assert r.context["page"].paginator.count == 55 and len(_codes(r)) == 50
    html = r.content.decode()
    assert "tag=%E6%89%B9%E9%87%8F&amp;page=2" in html
    r2 = c.get(reverse("web:people"), {"tag": "批量", "page": 2})
    assert _codes(r2) == [f"XH2{i:03d}" for i in range(50, 55)]


# ------------------------------------------------------------------ personal data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "phone_clear", "id_clear"),
    [
        ("admin", True, True),
        ("manager", True, True),
        ("secretary", True, True),
        ("leader", True, False),
        ("member", False, False),
        ("viewer", False, False),
    ],
)
def test_person_page_masks_personal_data_by_role(org, as_role, role, phone_clear, id_clear) -> None:
    c = as_role(role, org.xuhui)
    html = c.get(reverse("web:person_detail", args=[org.alice.pk])).content.decode()
    phone = _dd(html, "person-phone")
    id_number = _dd(html, "person-id-number")
    assert phone == (org.alice.phone if phone_clear else org.alice.phone_masked)
    assert id_number == (org.alice.id_number if id_clear else org.alice.id_number_masked)
    # Nowhere else on the page either (the history shows masked values only).
    assert (org.alice.phone in html) is phone_clear
    assert (org.alice.id_number in html) is id_clear
    # The edit form of those who may change shows the same values.
    if role in ("admin", "manager", "secretary"):
        form = c.get(reverse("web:person_edit", args=[org.alice.pk])).context["form"]
        assert (form.initial["phone"], form.initial["id_number"]) == (phone, id_number)


def _dd(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, element_id
    return match.group(1).strip()


@pytest.mark.django_db
def test_own_record_is_shown_in_clear(org, make_user, login) -> None:
    user = make_user("carol")
    org.carol.user = user
    org.carol.save(update_fields=["user"])
    html = login(user).get(reverse("web:person_detail", args=[org.carol.pk])).content.decode()
    assert org.carol.phone in html and org.carol.id_number in html


@pytest.mark.django_db
def test_person_page_shows_teams_tags_and_history_to_auditors(org, as_role) -> None:
    admin = as_role("admin", org.xuhui)
    html = admin.get(reverse("web:person_detail", args=[org.alice.pk])).content.decode()
    assert "税青逆行者" in html and "青年" in html
    assert 'id="history-title"' in html
    r = admin.get(reverse("web:person_detail", args=[org.alice.pk]))
    assert [e.action for e in r.context["history"]] == ["orgs.person.created"]
    viewer = as_role("viewer", org.xuhui)
    r = viewer.get(reverse("web:person_detail", args=[org.alice.pk]))
    assert 'id="history-title"' not in r.content.decode() and not r.context["history"]
