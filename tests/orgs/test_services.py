"""The organization services: validation, tree rules, audit, encryption at rest."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from muster.audit.models import AuditEvent
from muster.orgs.access import SYSTEM, NotAllowed
from muster.orgs.models import Person, Unit
from muster.orgs.services import (
    person_create,
    person_update,
    role_grant,
    team_member_add,
    unit_create,
    unit_move,
    unit_update,
)
from tests.conftest import make_id_number


def test_unit_create_is_audited_with_its_path(org, make_user) -> None:
    admin = make_user("adm", "admin", org.xuhui)
    unit = unit_create(actor=admin, code="XH-S2", name="第二税务所", kind="tax_office", parent=org.xuhui)
    ev = AuditEvent.objects.get(action="orgs.unit.created", target_id=str(unit.pk))
    assert ev.actor == admin and ev.unit_path == unit.path and ev.changes["code"] == "XH-S2"
    assert unit.path.startswith(org.xuhui.path)


def test_duplicate_code_and_mixed_trees_are_refused(org) -> None:
    with pytest.raises(ValidationError) as exc:
        unit_create(actor=SYSTEM, code="XH", name="重复", kind="tax_office", parent=org.root)
    assert "code" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        unit_create(actor=SYSTEM, code="XH-B99", name="支部", kind="branch", parent=org.xuhui)
    assert "parent" in exc.value.message_dict


def test_move_refuses_a_cycle_and_moves_the_subtree(org) -> None:
    with pytest.raises(ValidationError, match="cannot be moved under itself"):
        unit_move(actor=SYSTEM, unit=org.xuhui, new_parent=org.xuhui_office)
    moved = unit_move(actor=SYSTEM, unit=org.xuhui_office, new_parent=org.huangpu)
    assert moved.path.startswith(Unit.objects.get(pk=org.huangpu.pk).path)
    bob = Person.objects.get(pk=org.bob.pk)
    assert bob.unit.path.startswith(moved.path)
    assert AuditEvent.objects.filter(action="orgs.unit.moved", target_id=str(moved.pk)).count() == 1


def test_manager_cannot_write_outside_subtree(org, make_user) -> None:
    manager = make_user("m", "manager", org.xuhui)
    with pytest.raises(NotAllowed):
        unit_update(actor=manager, unit=org.huangpu, name="改名")
    with pytest.raises(NotAllowed):
        person_create(actor=manager, code="HP9", name="某人", unit=org.huangpu)
    with pytest.raises(NotAllowed):
        unit_move(actor=manager, unit=org.xuhui_office, new_parent=org.huangpu)
    with pytest.raises(NotAllowed):
        role_grant(actor=manager, user=manager, unit=org.xuhui, role="admin")


def test_person_personal_data_is_encrypted_at_rest(org) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT phone_enc, id_number_enc FROM orgs_person WHERE code = %s", ["XH0001"])
        phone_enc, id_enc = cur.fetchone()
    assert "13812345678" not in phone_enc and phone_enc.startswith("v1:")
    assert org.alice.id_number not in id_enc
    fresh = Person.objects.get(code="XH0001")
    assert fresh.phone == "13812345678"
    assert fresh.id_number_masked == fresh.id_number[:2] + "*" * 15 + fresh.id_number[-1:]


def test_person_validation_names_each_field(org) -> None:
    bad_id = make_id_number(seq="777")[:-1] + ("0" if make_id_number(seq="777")[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        person_create(
            actor=SYSTEM, code="XH0001", name="", unit=org.xuhui_branch, phone="123", id_number=bad_id
        )
    errors = exc.value.message_dict
    assert set(errors) >= {"code", "name", "unit", "phone", "id_number"}


def test_duplicate_id_number_is_refused(org) -> None:
    with pytest.raises(ValidationError) as exc:
        person_create(actor=SYSTEM, code="XH0100", name="重号", unit=org.xuhui, id_number=org.alice.id_number)
    assert "id_number" in exc.value.message_dict


def test_person_update_records_masked_diff_and_keeps_masked_values(org) -> None:
    before_count = AuditEvent.objects.count()
    p = person_update(actor=SYSTEM, person=org.alice, phone="138****5678", id_number="3101**********1234")
    assert p.phone == "13812345678"  # masked input keeps the stored value
    assert AuditEvent.objects.count() == before_count  # nothing changed, nothing logged
    p = person_update(actor=SYSTEM, person=org.alice, phone="13987654321", tags=["青年", "志愿者"])
    ev = AuditEvent.objects.filter(action="orgs.person.updated").latest("id")
    assert ev.changes["phone"] == ["138****5678", "139****4321"]
    assert ev.changes["tags"] == [["青年"], ["志愿者", "青年"]]
    assert "13987654321" not in str(ev.changes)


def test_team_membership_is_idempotent(org) -> None:
    team = org.alice.teams.get()
    n = AuditEvent.objects.count()
    team_member_add(actor=SYSTEM, team=team, person=org.alice, role="leader")
    assert AuditEvent.objects.count() == n


def test_audit_log_is_append_only(org) -> None:
    ev = AuditEvent.objects.first()
    assert ev is not None
    with pytest.raises(TypeError):
        ev.save()
    with pytest.raises(TypeError):
        ev.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(action="x")


def test_person_link_user(org, make_user) -> None:
    from muster.orgs.services import person_link_user

    u = make_user("zl")
    person_link_user(actor=SYSTEM, person=org.alice, user=u)
    assert Person.objects.get(pk=org.alice.pk).user == u
    with pytest.raises(ValidationError):
        person_link_user(actor=SYSTEM, person=org.bob, user=u)
    manager = make_user("m", "manager", org.xuhui)
    with pytest.raises(NotAllowed):
        person_link_user(actor=manager, person=org.bob, user=None)


def test_passwords_are_hashed_with_argon2(db, settings) -> None:
    from django.contrib.auth.hashers import make_password

    import muster.settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # undo the tests' fast hasher
    assert make_password("x-Muster-2026").startswith("argon2")
