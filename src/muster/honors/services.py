"""Writes for honors: star-tier thresholds, tiers reached, certificates. Each service is keyword-only,
runs in one transaction and is audited (``honors.*`` action codes).

Who may do what
---------------
- A *leader of a person* (``mobilize.approve`` on the person's unit or party organization: leader,
  manager, secretary, admin — whoever approves the hours certifies them, 谁记录谁证明) issues, approves,
  rejects and revokes that person's certificates, never their own.
- A person asks for their own certificate (``certificate_request``); another leader approves it.
- Only an administrator on a root unit changes the star-tier thresholds.
A person out of the actor's scope is "not found" (404), as everywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import dates
from muster.audit.services import log_action
from muster.honors import queries, signals
from muster.honors.models import Certificate, CertificateStatus, StarReached, StarTier
from muster.honors.tiers import check_table, newly_reached, tier_of
from muster.mobilize.models import EntryKind
from muster.orgs import access, crypto
from muster.orgs.access import NotAllowed, Perm
from muster.orgs.models import Person, Unit
from muster.orgs.rules import check_text

ID_TYPE_RESIDENT = "居民身份证"
MAX_HOURS = 100_000  # a threshold above this is a typing error, not a tier


def _hours_text(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- star tiers


def _require_admin(actor: Any) -> None:
    if access.is_all_powerful(actor):
        return
    roots = Unit.objects.get_root_nodes()
    if not any(access.can(actor, Perm.MOBILIZE_CATALOG, r) for r in roots):
        raise NotAllowed(Perm.MOBILIZE_CATALOG)


@transaction.atomic
def star_tier_set(*, actor: Any, level: int, min_hours: int, name: str = "", source: str = "") -> StarTier:
    """Set (or add) a tier's threshold. The table must stay levels 1..n with rising hours."""
    _require_admin(actor)
    if not isinstance(level, int) or not 1 <= level <= 20:
        raise ValidationError({"level": _("A star tier is a level from 1 to 20.")})
    if not isinstance(min_hours, int) or not 1 <= min_hours <= MAX_HOURS:
        raise ValidationError(
            {"min_hours": _("Hours needed must be a whole number from 1 to %(max)s.") % {"max": MAX_HOURS}}
        )
    name = check_text("name", name, max_length=40) or _("%(n)s-star volunteer") % {"n": level}
    source = check_text("source", source, max_length=200)
    tiers = {t.level: t for t in StarTier.objects.select_for_update().order_by("level")}
    table = [(lv, t.min_hours) for lv, t in tiers.items() if lv != level] + [(level, min_hours)]
    problems = check_table(table)
    if "levels" in problems:
        raise ValidationError({"level": _("Star tiers are numbered 1, 2, 3… without gaps.")})
    if "rising" in problems:
        raise ValidationError(
            {
                "min_hours": _(
                    "Each star tier needs more hours than the tier below it and fewer than the one above."
                )
            }
        )
    tier = tiers.get(level)
    before = {"min_hours": tier.min_hours, "name": tier.name} if tier else {}
    if tier is None:
        tier = StarTier(level=level)
    tier.min_hours = min_hours
    tier.name = name
    if source:
        tier.source = source
    tier.save()
    log_action(
        actor,
        action="honors.tier.changed",
        target=tier,
        changes={"level": level, "before": before, "min_hours": min_hours, "name": name},
    )
    return tier


def _star_verb_title(level: int, name: str) -> str:
    return _("You are now a %(name)s (%(stars)s)") % {"name": name, "stars": "★" * level}


@transaction.atomic
def stars_refresh(*, actor: Any, people: Iterable[int], now: datetime | None = None) -> list[StarReached]:
    """Record the tiers ``people`` (ids) have reached by now and notify each person once per new tier.

    Set-wise (one balance query for all of them), so a bulk ledger write costs a few queries. A tier
    lost through a reversal is not announced again when it is reached again.
    """
    from muster.notify.services import notify, recipients_of

    ids = sorted(set(people))
    if not ids:
        return []
    now = now or timezone.now()
    table = queries.thresholds()
    if not table:
        return []
    names = queries.tier_names()
    mins = queries.balances(ids, now)
    have: dict[int, set[int]] = {}
    for pid, level in StarReached.objects.filter(person_id__in=ids).values_list("person_id", "level"):
        have.setdefault(pid, set()).add(level)
    new_rows: list[StarReached] = []
    for pid in ids:
        level = tier_of(mins.get(pid, 0), table)
        for lv in newly_reached(0, level):
            if lv not in have.get(pid, set()):
                new_rows.append(
                    StarReached(person_id=pid, level=lv, minutes=mins.get(pid, 0), reached_at=now)
                )
    if not new_rows:
        return []
    StarReached.objects.bulk_create(new_rows, ignore_conflicts=True)
    people_by_id = {
        p.pk: p for p in Person.objects.filter(pk__in={r.person_id for r in new_rows}).select_related("user")
    }
    top: dict[int, StarReached] = {}
    for r in new_rows:
        if r.person_id not in top or r.level > top[r.person_id].level:
            top[r.person_id] = r
    for pid, r in top.items():
        person = people_by_id[pid]
        name = names.get(r.level, "")
        log_action(
            actor,
            action="honors.star.reached",
            target=person,
            unit_path=person.unit.path if person.unit_id else "",
            changes={"level": r.level, "hours": _hours_text(r.minutes)},
        )
        notify(
            recipients_of([person]),
            verb="honors.star_reached",
            title=_star_verb_title(r.level, name),
            body=_("Your approved volunteer service has reached %(hours)s hours.")
            % {"hours": _hours_text(r.minutes)},
            link=f"/honors/people/{person.code}/",
        )
    return new_rows


# ---------------------------------------------------------------- certificates


def _check_as_of(as_of: datetime) -> datetime:
    if timezone.is_naive(as_of):
        raise ValidationError({"as_of": _("The cutoff needs a time zone.")})
    if not dates.day_in_range(timezone.localtime(as_of, queries.local_tz()).date()):
        raise ValidationError({"as_of": dates.date_range_message()})
    now = timezone.now()
    return min(as_of, now)


def _visible_person(actor: Any, person: Person) -> Person:
    if not access.scoped(Person.objects.filter(pk=person.pk), actor, Perm.VIEW).exists():
        raise Http404
    return person


def _require_leader(actor: Any, person: Person) -> None:
    if not queries.may_decide(actor, person):
        raise NotAllowed(Perm.MOBILIZE_APPROVE)


def _issuing_unit(actor: Any, person: Person, unit: Unit | None) -> Unit:
    """The unit a certificate is issued in the name of: one the actor leads (approves for), no exception;
    by default the first of the person's units (unit, then party unit) the actor leads."""
    if unit is None:
        unit = next((u for u in access.units_of(person) if access.can(actor, Perm.MOBILIZE_APPROVE, u)), None)
        if unit is None:
            raise NotAllowed(Perm.MOBILIZE_APPROVE)
    if not access.scoped(Unit.objects.filter(pk=unit.pk), actor, Perm.VIEW).exists():
        raise Http404
    if not access.can(actor, Perm.MOBILIZE_APPROVE, unit):
        raise ValidationError(
            {"issuing_unit": _("You may only issue certificates in the name of a unit you lead.")}
        )
    return unit


def _content(record: queries.VolunteerRecord) -> str:
    parts = []
    for kind, minutes in record.by_kind().items():
        label = EntryKind(kind).label if kind in EntryKind.values else kind
        parts.append(_("%(kind)s %(hours)s h") % {"kind": label, "hours": _hours_text(minutes)})
    titles = [ln.deployment.title for ln in record.lines if ln.deployment is not None]
    text = "; ".join(parts)
    if titles:
        text += " — " + "、".join(dict.fromkeys(titles))
    return text[:2000]


@dataclass
class _Texts:
    person_in_charge: str
    handler: str
    contact: str
    volunteer_number: str
    note: str


def _texts(**kw: str) -> _Texts:
    return _Texts(
        person_in_charge=check_text("person_in_charge", kw.get("person_in_charge", ""), max_length=60),
        handler=check_text("handler", kw.get("handler", ""), max_length=60),
        contact=check_text("contact", kw.get("contact", ""), max_length=60),
        volunteer_number=check_text("volunteer_number", kw.get("volunteer_number", ""), max_length=40),
        note=check_text("note", kw.get("note", ""), max_length=500),
    )


def _record_or_refuse(person: Person, as_of: datetime) -> queries.VolunteerRecord:
    record = queries.volunteer_record(person, as_of)
    if record.minutes <= 0:
        raise ValidationError(
            {
                "person": _(
                    "%(person)s has no approved service hours as of %(as_of)s; there is nothing to certify."
                )
                % {
                    "person": person.name,
                    "as_of": timezone.localtime(as_of, queries.local_tz()).strftime("%Y-%m-%d %H:%M"),
                }
            }
        )
    return record


def _fill_and_issue(actor: Any, cert: Certificate, unit: Unit, texts: _Texts) -> Certificate:
    """Freeze the contents, number the certificate and give it its verification token."""
    person = Person.objects.select_related("user").get(pk=cert.person_id)
    record = _record_or_refuse(person, cert.as_of)
    now = timezone.now()
    year = timezone.localtime(now, queries.local_tz()).year
    Unit.objects.select_for_update().filter(pk=unit.pk).first()  # numbers per unit and year, in order
    last = (
        Certificate.objects.filter(issuing_unit=unit, year=year, seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    seq = (last or 0) + 1
    cert.issuing_unit = unit
    cert.year = year
    cert.seq = seq
    cert.serial = f"ZYFW-{unit.code}-{year}-{seq:05d}"
    cert.token = new_token()
    cert.name = person.name
    id_number = person.id_number
    cert.id_type = ID_TYPE_RESIDENT if id_number else ""
    cert.id_number_enc = crypto.encrypt(id_number) if id_number else ""
    cert.volunteer_number = texts.volunteer_number or person.code
    cert.minutes = record.minutes
    cert.period_start = record.period_start
    cert.period_end = record.period_end
    # the text names only the batches the issuer may see (the rest counted by kind, without title)
    cert.content = _content(queries.record_seen_by(actor, record))
    cert.person_in_charge = texts.person_in_charge or cert.person_in_charge
    cert.handler = (
        texts.handler or cert.handler or (actor.get_username() if getattr(actor, "pk", None) else "")
    )
    cert.contact = texts.contact or cert.contact
    if texts.note:
        cert.note = texts.note
    cert.status = CertificateStatus.ISSUED
    cert.issued_by = actor if getattr(actor, "pk", None) is not None else None
    cert.issued_by_name = (
        actor.get_username()
        if getattr(actor, "pk", None) is not None
        else getattr(actor, "display_name", "system")
    )
    cert.issued_at = now
    cert.save()
    log_action(
        actor,
        action="honors.certificate.issued",
        target=cert,
        unit_path=person.unit.path,
        changes={
            "person": person.code,
            "hours": _hours_text(cert.minutes),
            "serial": cert.serial,
            "unit": unit.code,
        },
    )
    signals.certificate_changed.send(sender=Certificate, certificate=cert)
    return cert


@transaction.atomic
def certificate_issue(
    *,
    actor: Any,
    person: Person,
    as_of: datetime,
    issuing_unit: Unit | None = None,
    person_in_charge: str = "",
    handler: str = "",
    contact: str = "",
    volunteer_number: str = "",
    note: str = "",
) -> Certificate:
    """A leader issues a certificate of ``person``'s approved hours as of ``as_of``."""
    _visible_person(actor, person)
    as_of = _check_as_of(as_of)
    _require_leader(actor, person)
    texts = _texts(
        person_in_charge=person_in_charge,
        handler=handler,
        contact=contact,
        volunteer_number=volunteer_number,
        note=note,
    )
    unit = _issuing_unit(actor, person, issuing_unit)
    _record_or_refuse(person, as_of)
    cert = Certificate(person=person, as_of=as_of, issuing_unit=unit, status=CertificateStatus.REQUESTED)
    return _fill_and_issue(actor, cert, unit, texts)


@transaction.atomic
def certificate_request(*, actor: Any, as_of: datetime, note: str = "") -> Certificate:
    """A person asks for a certificate of their own hours; a leader approves it."""
    person = queries.own_person(actor)
    if person is None:
        raise ValidationError(
            {"person": _("Your login is not linked to a person, so there is no record to certify.")}
        )
    as_of = _check_as_of(as_of)
    note = check_text("note", note, max_length=500)
    _record_or_refuse(person, as_of)
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if Certificate.objects.filter(person=person, status=CertificateStatus.REQUESTED).exists():
        raise ValidationError({"person": _("You already have a request waiting for approval.")})
    cert = Certificate.objects.create(
        person=person,
        as_of=as_of,
        issuing_unit=person.unit,
        status=CertificateStatus.REQUESTED,
        note=note,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    log_action(
        actor,
        action="honors.certificate.requested",
        target=cert,
        unit_path=person.unit.path,
        changes={"person": person.code, "as_of": as_of.isoformat()},
    )
    return cert


def _locked(cert: Certificate) -> Certificate:
    return Certificate.objects.select_for_update().select_related("person", "person__unit").get(pk=cert.pk)


@transaction.atomic
def certificate_approve(
    *,
    actor: Any,
    certificate: Certificate,
    issuing_unit: Unit | None = None,
    person_in_charge: str = "",
    handler: str = "",
    contact: str = "",
    volunteer_number: str = "",
) -> Certificate:
    """A leader (not the requester) approves a request: the certificate is issued."""
    _visible_person(actor, certificate.person)
    cert = _locked(certificate)
    if cert.requested_by_id is not None and cert.requested_by_id == getattr(actor, "pk", None):
        raise NotAllowed(Perm.MOBILIZE_APPROVE)
    _require_leader(actor, cert.person)
    if cert.status != CertificateStatus.REQUESTED:
        raise ValidationError({"certificate": _("Only a request waiting for approval can be approved.")})
    texts = _texts(
        person_in_charge=person_in_charge, handler=handler, contact=contact, volunteer_number=volunteer_number
    )
    unit = _issuing_unit(actor, cert.person, issuing_unit)
    return _fill_and_issue(actor, cert, unit, texts)


@transaction.atomic
def certificate_reject(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    _visible_person(actor, certificate.person)
    cert = _locked(certificate)
    if cert.requested_by_id is not None and cert.requested_by_id == getattr(actor, "pk", None):
        raise NotAllowed(Perm.MOBILIZE_APPROVE)
    _require_leader(actor, cert.person)
    reason = check_text("reason", reason, max_length=500)
    if not reason:
        raise ValidationError({"reason": _("Say why the request is rejected.")})
    if cert.status != CertificateStatus.REQUESTED:
        raise ValidationError({"certificate": _("Only a request waiting for approval can be rejected.")})
    cert.status = CertificateStatus.REJECTED
    cert.decided_reason = reason
    cert.save(update_fields=["status", "decided_reason"])
    log_action(
        actor,
        action="honors.certificate.rejected",
        target=cert,
        unit_path=cert.person.unit.path,
        changes={"reason": reason},
    )
    return cert


@transaction.atomic
def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    """Revoke an issued certificate; its verification page then says so (the reason stays internal)."""
    _visible_person(actor, certificate.person)
    cert = _locked(certificate)
    _require_leader(actor, cert.person)
    reason = check_text("reason", reason, max_length=500)
    if not reason:
        raise ValidationError({"reason": _("Say why the certificate is revoked.")})
    if cert.status != CertificateStatus.ISSUED:
        raise ValidationError({"certificate": _("Only an issued certificate can be revoked.")})
    cert.status = CertificateStatus.REVOKED
    cert.revoke_reason = reason
    cert.revoked_at = timezone.now()
    cert.revoked_by = actor if getattr(actor, "pk", None) is not None else None
    cert.save(update_fields=["status", "revoke_reason", "revoked_at", "revoked_by"])
    log_action(
        actor,
        action="honors.certificate.revoked",
        target=cert,
        unit_path=cert.person.unit.path,
        changes={"serial": cert.serial, "reason": reason},
    )
    signals.certificate_changed.send(sender=Certificate, certificate=cert)
    return cert


# ---------------------------------------------------------------- public verification


@dataclass(frozen=True)
class Verification:
    """What the public page shows: nothing but these."""

    found: bool
    valid: bool = False
    revoked: bool = False
    masked_name: str = ""
    hours: str = ""
    issuer: str = ""
    serial: str = ""
    issued_on: str = ""
    revoked_on: str = ""


def new_token() -> str:
    """A random, unguessable verification key (24 bytes) that never starts with "-": printed on the
    certificate and typed into ``muster honors verify TOKEN``, where a leading "-" reads as an option."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


def _token_shape_ok(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@transaction.atomic
def certificate_verify(*, actor: Any, token: str) -> Verification:
    """Look a certificate up by its verification token (audited, found or not)."""
    signed_in = getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) is not None
    viewer = actor
    if not getattr(actor, "is_authenticated", False):
        actor = access.SystemActor(display_name="anonymous")  # the public page: logged as such, with its IP
    token = token or ""
    cert = None
    if _token_shape_ok(token):
        cert = (
            Certificate.objects.select_related("issuing_unit", "person__unit")
            .filter(token=token, status__in=[CertificateStatus.ISSUED, CertificateStatus.REVOKED])
            .first()
        )
    if cert is None:
        safe = "".join(c for c in token[:64] if c.isalnum() or c in "-_")
        log_action(actor, action="honors.certificate.verify_unknown", changes={"token": safe})
        return Verification(found=False)
    log_action(
        actor,
        action="honors.certificate.verified",
        target=cert,
        unit_path=cert.person.unit.path,
        changes={"status": cert.status},
    )
    tz = queries.local_tz()
    # the serial (unit code, yearly count) and the revocation date only for signed-in users in scope
    in_scope = signed_in and queries.visible_certificates(viewer).filter(pk=cert.pk).exists()
    return Verification(
        found=True,
        valid=cert.status == CertificateStatus.ISSUED,
        revoked=cert.status == CertificateStatus.REVOKED,
        masked_name=queries.mask_name(cert.name),
        hours=_hours_text(cert.minutes),
        issuer=cert.issuing_unit.name,
        serial=(cert.serial or "") if in_scope else "",
        issued_on=timezone.localtime(cert.issued_at, tz).date().isoformat() if cert.issued_at else "",
        revoked_on=timezone.localtime(cert.revoked_at, tz).date().isoformat()
        if cert.revoked_at and in_scope
        else "",
    )
