"""The organization: units (administrative and party trees), people, teams, partners and role grants."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from muster.orgs import crypto
from muster.orgs.validators import mask_id_number, mask_phone


class UnitKind(models.TextChoices):
    CITY_BUREAU = "city_bureau", _("City bureau")
    BUREAU_ORGAN = "bureau_organ", _("Bureau organ")
    DISTRICT_BUREAU = "district_bureau", _("District bureau")
    INSPECTION_BUREAU = "inspection_bureau", _("Inspection bureau")
    SUB_BUREAU = "sub_bureau", _("Tax sub-bureau")
    SERVICE_CENTER = "service_center", _("Taxpayer service center")
    TAX_OFFICE = "tax_office", _("Tax office")
    SECTION = "section", _("Section")
    SERVICE_HALL = "service_hall", _("Tax service hall")
    PARTY_COMMITTEE = "party_committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General branch")
    BRANCH = "branch", _("Party branch")
    PARTY_GROUP = "party_group", _("Party group")


PARTY_KINDS = frozenset(
    {UnitKind.PARTY_COMMITTEE, UnitKind.GENERAL_BRANCH, UnitKind.BRANCH, UnitKind.PARTY_GROUP}
)


class Unit(MP_Node):
    """A node of the administrative tree (市局 → 区局 → 税务所) or of the party tree (党委 → 党支部).

    A subtree is a path prefix (materialized path), which is how every scope check works.
    """

    code: models.CharField[str, str] = models.CharField(_("code"), max_length=40, unique=True)
    name: models.CharField[str, str] = models.CharField(_("name"), max_length=120)
    short_name: models.CharField[str, str] = models.CharField(_("short name"), max_length=60, blank=True)
    kind: models.CharField[str, str] = models.CharField(_("type"), max_length=24, choices=UnitKind.choices)
    is_active: models.BooleanField[bool, bool] = models.BooleanField(_("active"), default=True)
    created_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now_add=True)
    updated_at: models.DateTimeField[Any, Any] = models.DateTimeField(auto_now=True)
    path: str
    depth: int
    numchild: int

    steplen = 4

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name

    @property
    def is_party(self) -> bool:
        return self.kind in PARTY_KINDS

    @property
    def tree(self) -> str:
        return "party" if self.is_party else "admin"


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class PoliticalStatus(models.TextChoices):
    MEMBER = "member", _("Party member")
    PROBATIONARY = "probationary", _("Probationary party member")
    LEAGUE = "league", _("League member")
    OTHER_PARTY = "other_party", _("Democratic party member")
    NON_PARTY = "non_party", _("Non-party")


class EmploymentStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    SECONDED = "seconded", _("Seconded")
    RETIRED = "retired", _("Retired")
    LEFT = "left", _("Left")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone of the organization. ID number and phone are encrypted at rest and masked when shown."""

    code = models.CharField(_("staff number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="people")
    party_unit = models.ForeignKey(
        Unit,
        verbose_name=_("party organization"),
        on_delete=models.PROTECT,
        related_name="party_members",
        null=True,
        blank=True,
    )
    political_status = models.CharField(
        _("political status"),
        max_length=16,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.NON_PARTY,
    )
    employment_status = models.CharField(
        _("employment status"),
        max_length=12,
        choices=EmploymentStatus.choices,
        default=EmploymentStatus.ACTIVE,
    )
    phone_enc = models.CharField(max_length=120, blank=True, editable=False)
    id_number_enc = models.CharField(max_length=120, blank=True, editable=False)
    id_number_digest = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="people")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    # Personal data: read through these, never through the *_enc columns.
    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_enc)

    @phone.setter
    def phone(self, value: str) -> None:
        self.phone_enc = crypto.encrypt(value)

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_enc)

    @id_number.setter
    def id_number(self, value: str) -> None:
        self.id_number_enc = crypto.encrypt(value)
        self.id_number_digest = crypto.digest(value) or None

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class TeamKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer team")
    YOUTH = "youth", _("Youth task force")
    MEMBER = "member", _("Party member task force")
    RESERVE = "reserve", _("Reserve team")


class Team(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=16, choices=TeamKind.choices, default=TeamKind.VOLUNTEER)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="teams")
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    members: models.ManyToManyField[Person, TeamMembership] = models.ManyToManyField(
        Person, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Team leader")
    MEMBER = "member", _("Team member")


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(_("role"), max_length=8, choices=TeamRole.choices, default=TeamRole.MEMBER)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [models.UniqueConstraint(fields=["team", "person"], name="uniq_team_person")]

    def __str__(self) -> str:
        return f"{self.team} · {self.person}"


class PartnerKind(models.TextChoices):
    COMMUNITY = "community", _("Community")
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")
    VILLAGE = "village", _("Village")
    PARK = "park", _("Industrial park")
    BUILDING = "building", _("Office building")
    ENTERPRISE = "enterprise", _("Enterprise")
    TEST_SITE = "test_site", _("Test site")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    AIRPORT = "airport", _("Airport")
    HOTLINE = "hotline", _("Hotline center")
    HEALTH = "health", _("Disease control / health body")
    OTHER = "other", _("Other")


class Partner(models.Model):
    """An outside body Muster works with: a community, a test site, an airport, an enterprise…"""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=24, choices=PartnerKind.choices)
    district = models.CharField(_("district"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("liaison unit"),
        on_delete=models.PROTECT,
        related_name="partners",
        help_text=_("The unit that works with this partner; it scopes who sees it."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SECRETARY = "secretary", _("Party secretary")
    LEADER = "leader", _("Leader")
    MEMBER = "member", pgettext_lazy("access role", "Member")
    VIEWER = "viewer", _("Viewer")


class RoleGrant(models.Model):
    """A role on a unit; it applies to the unit's whole subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="uniq_grant")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.unit}"


def person_snapshot(p: Person, *, masked: bool = True) -> dict[str, Any]:
    """A person's fields as plain values (for audit diffs): personal data masked."""
    return {
        "code": p.code,
        "name": p.name,
        "gender": p.gender,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "unit": p.unit.code if p.unit_id else None,
        "party_unit": p.party_unit.code if p.party_unit_id and p.party_unit else None,
        "political_status": p.political_status,
        "employment_status": p.employment_status,
        "phone": mask_phone(p.phone) if masked else p.phone,
        "id_number": mask_id_number(p.id_number) if masked else p.id_number,
    }
