"""The scoping helper: grants apply to subtrees, both trees, one place decides."""

from __future__ import annotations

import pytest
from django.http import Http404

from muster.orgs.access import (
    ROLE_PERMS,
    SYSTEM,
    Perm,
    can,
    get_scoped_or_404,
    may_see_personal,
    scoped,
    visible_roots,
)
from muster.orgs.models import Person, Role, Unit
from muster.orgs.services import role_grant, role_revoke


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_grant_applies_to_the_subtree_only(org, make_user) -> None:
    u = make_user("v", "viewer", org.xuhui)
    assert codes(scoped(Unit.objects.all(), u)) == {"XH", "XH-S1"}
    assert codes(scoped(Person.objects.all(), u)) == {"XH0001", "XH0002"}
    assert can(u, Perm.VIEW, org.xuhui_office) and not can(u, Perm.VIEW, org.huangpu)
    assert not can(u, Perm.CHANGE, org.xuhui)


def test_party_tree_grant_sees_branch_members(org, make_user) -> None:
    sec = make_user("s", "secretary", org.xuhui_committee)
    assert codes(scoped(Person.objects.all(), sec)) == {"XH0001"}
    assert may_see_personal(sec, org.alice, Perm.VIEW_ID)


def test_out_of_scope_is_not_found(org, make_user) -> None:
    u = make_user("v", "viewer", org.xuhui)
    with pytest.raises(Http404):
        get_scoped_or_404(Person.objects.all(), u, code="HP0001")
    assert get_scoped_or_404(Person.objects.all(), u, code="XH0002").name == "王强"


def test_no_grant_sees_nothing_but_self(org, make_user) -> None:
    u = make_user("nobody")
    assert not scoped(Unit.objects.all(), u).exists()
    assert not scoped(Person.objects.all(), u).exists()
    org.bob.user = u
    org.bob.save()
    assert codes(scoped(Person.objects.all(), u)) == {"XH0002"}
    assert may_see_personal(u, org.bob, Perm.VIEW_ID)


@pytest.mark.parametrize("role", Role.values)
def test_personal_data_follows_the_role(org, make_user, role) -> None:
    u = make_user("r", role, org.xuhui)
    assert may_see_personal(u, org.alice, Perm.VIEW_PHONE) == (Perm.VIEW_PHONE in ROLE_PERMS[role])
    assert may_see_personal(u, org.alice, Perm.VIEW_ID) == (Perm.VIEW_ID in ROLE_PERMS[role])
    assert not may_see_personal(u, org.carol, Perm.VIEW_PHONE)


def test_grants_are_cached_per_user_object_and_forgotten_on_change(org, make_user) -> None:
    u = make_user("g")
    assert not can(u, Perm.VIEW, org.xuhui)
    grant = role_grant(actor=SYSTEM, user=u, unit=org.xuhui, role="viewer")
    assert can(u, Perm.VIEW, org.xuhui)
    role_revoke(actor=SYSTEM, grant=grant)
    assert not can(u, Perm.VIEW, org.xuhui)


def test_visible_roots(org, make_user) -> None:
    u = make_user("two")
    role_grant(actor=SYSTEM, user=u, unit=org.xuhui, role="viewer")
    role_grant(actor=SYSTEM, user=u, unit=org.xuhui_office, role="manager")
    role_grant(actor=SYSTEM, user=u, unit=org.huangpu_committee, role="viewer")
    assert [r.code for r in visible_roots(u)] == sorted(
        ["XH", "HP-DW"], key=lambda c: Unit.objects.get(code=c).path
    )
    admin = make_user("root", is_superuser=True)
    assert codes(visible_roots(admin)) == {"SH", "SH-DW"}


def test_inactive_unit_grants_nothing(org, make_user) -> None:
    u = make_user("v", "viewer", org.huangpu)
    Unit.objects.filter(pk=org.huangpu.pk).update(is_active=False)
    u2 = type(u).objects.get(pk=u.pk)
    assert not can(u2, Perm.VIEW, org.huangpu)
