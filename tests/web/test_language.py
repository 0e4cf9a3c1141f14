"""Simplified Chinese by default; the navbar switch changes the page language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_language_switch_changes_the_page_language(org, as_role) -> None:
    c = as_role("viewer", org.xuhui)
    html = c.get(reverse("web:home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    # The switch is a POST form to Django's set_language, offering both languages.
    assert f'action="{reverse("set_language")}"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="zh-hans"' in html

    r = c.post(reverse("set_language"), {"language": "en", "next": reverse("web:people")})
    assert r.status_code == 302 and r["Location"] == reverse("web:people")
    html = c.get(reverse("web:people")).content.decode()
    assert '<html lang="en">' in html

    c.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("web:home")})
    assert '<html lang="zh-hans">' in c.get(reverse("web:home")).content.decode()


@pytest.mark.django_db
def test_language_switch_on_the_login_page(db) -> None:
    c = Client()
    assert '<html lang="zh-hans">' in c.get(reverse("login")).content.decode()
    c.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert '<html lang="en">' in c.get(reverse("login")).content.decode()
