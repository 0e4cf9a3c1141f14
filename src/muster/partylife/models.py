"""Party life: branch membership history, meetings (三会一课 …) with attendance and review, compliance
rules as data with exemptions and frozen snapshots, heart-to-heart talks, the membership pipeline,
posts and contact points. (Awards and commendations live in ``muster.honors``.)

Writes go through ``muster.partylife.services``; reads through ``muster.partylife.queries``. The pure
rule engines are ``compliance`` and ``pipeline`` (no Django).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from muster.orgs.models import Person, Team, Unit
from muster.partylife import compliance, pipeline

# ---------------------------------------------------------------- branch membership


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    COMMITTEE = "committee", _("Committee member")
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
    SECRETARY = "secretary", _("Secretary")


COMMITTEE_ROLES = frozenset(
    {MembershipRole.COMMITTEE, MembershipRole.DEPUTY_SECRETARY, MembershipRole.SECRETARY}
)


class BranchMembership(models.Model):
    """A person belonged to a party organization (branch or party group) from ``start`` to ``end``
    (inclusive).

    This answers "who was in the branch on that date". ``Person.party_unit`` is today's answer; a person
    without any membership row is taken to have always been in their current ``party_unit``.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="branch_memberships"
    )
    branch = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until (inclusive)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("branch membership")
        verbose_name_plural = _("branch memberships")
        ordering = ["person", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="partylife_membership_dates"
            )
        ]
        indexes = [models.Index(fields=["branch", "start"])]

    def __str__(self) -> str:
        return f"{self.person} @ {self.branch} {self.start}–{self.end or ''}"

    @property
    def is_committee(self) -> bool:
        return self.role in COMMITTEE_ROLES


# ---------------------------------------------------------------- meetings


class MeetingKind(models.TextChoices):
    BRANCH_GENERAL = "branch_general", _("Branch general meeting")
    BRANCH_COMMITTEE = "branch_committee", _("Branch committee meeting")
    PARTY_GROUP = "party_group", _("Party group meeting")
    PARTY_LESSON = "party_lesson", _("Party lesson")
    THEME_DAY = "theme_day", _("Theme party day")
    LIFE_MEETING = "life_meeting", _("Organizational life meeting")
    APPRAISAL = "appraisal", _("Democratic appraisal")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


EDITABLE_STATUSES = frozenset({ReviewStatus.DRAFT, ReviewStatus.RETURNED})


class Meeting(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="meetings"
    )
    topic = models.CharField(_("topic"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    host = models.ForeignKey(
        Person, verbose_name=_("host"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorder = models.ForeignKey(
        Person, verbose_name=_("recorder"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lecturer = models.ForeignKey(
        Person, verbose_name=_("lecturer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.TextField(_("minutes"), blank=True)
    held = models.BooleanField(_("held"), default=False)
    review_status = models.CharField(
        _("review"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT, db_index=True
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} ({self.starts_at:%Y-%m-%d})"

    @property
    def kinds(self) -> list[str]:
        return [k.kind for k in self.kind_links.all()]

    @property
    def is_editable(self) -> bool:
        return self.review_status in EDITABLE_STATUSES


class MeetingKindLink(models.Model):
    """One kind a meeting counts as (a 主题党日 held together with a 党课 counts as both)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="kind_links")
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)

    class Meta:
        verbose_name = _("meeting kind")
        verbose_name_plural = _("meeting kinds")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="partylife_meeting_kind_once")
        ]
        indexes = [models.Index(fields=["kind", "meeting"])]

    def __str__(self) -> str:
        return self.get_kind_display()


class AttendanceStatus(models.TextChoices):
    UNMARKED = "unmarked", _("Not marked")
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")
    OBSERVER = "observer", _("Observer")


class Attendance(models.Model):
    """Expected attendees are filled from the roster at the meeting's date; observers are added."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="attendances"
    )
    expected = models.BooleanField(_("expected"), default=True)
    voting = models.BooleanField(_("full member"), default=False)
    committee = models.BooleanField(_("committee member"), default=False)
    status = models.CharField(
        _("attendance"), max_length=10, choices=AttendanceStatus.choices, default=AttendanceStatus.UNMARKED
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "person__code"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="partylife_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_status_display()}"


class MeetingAttachment(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="partylife/meetings/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class ReviewAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")
    CORRECTION = "correction", _("Correction started")


class MeetingReview(models.Model):
    """The review history of a meeting (one row per step; never changed)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(_("action"), max_length=12, choices=ReviewAction.choices)
    revision = models.PositiveIntegerField(_("revision"))
    opinion = models.TextField(_("opinion"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meeting review")
        verbose_name_plural = _("meeting reviews")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.action}"


# ---------------------------------------------------------------- compliance rules as data


class Period(models.TextChoices):
    MONTH = compliance.MONTH, _("Month")
    QUARTER = compliance.QUARTER, _("Quarter")
    YEAR = compliance.YEAR, _("Year")


class Quorum(models.TextChoices):
    NONE = compliance.QUORUM_NONE, _("No quorum")
    MAJORITY_EXPECTED = compliance.MAJORITY_EXPECTED, _("More than half of those expected")
    MAJORITY_VOTING = compliance.MAJORITY_VOTING, _("More than half of the voting members")
    MAJORITY_COMMITTEE = compliance.MAJORITY_COMMITTEE, _("More than half of the committee members")


class MeetingRequirement(models.Model):
    """ "``count`` meetings of ``kind`` per ``period``" for party organizations of type ``applies_to``.

    Defaults from RULES.md are seeded by a migration; an administrator edits them (as a new version
    with ``valid_from``) or adds a stricter one for a subtree (``unit``; the deepest one with the same
    ``code`` wins).
    """

    code = models.SlugField(_("code"), max_length=40)
    kind = models.CharField(_("meeting kind"), max_length=20, choices=MeetingKind.choices)
    applies_to = models.CharField(_("applies to"), max_length=24, default="branch")
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    count = models.PositiveSmallIntegerField(_("meetings per period"), default=1)
    quorum = models.CharField(_("quorum"), max_length=20, choices=Quorum.choices, blank=True, default="")
    lecturer_role = models.CharField(
        _("lecturer role"), max_length=20, blank=True, help_text=_("Only lessons given by this role count.")
    )
    usual_month = models.PositiveSmallIntegerField(_("usual month"), null=True, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until (exclusive)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting requirement")
        verbose_name_plural = _("meeting requirements")
        ordering = ["code", "valid_from"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.count} / {self.get_period_display()}"

    def as_engine(self) -> compliance.Requirement:
        return compliance.Requirement(
            code=self.code,
            kind=self.kind,
            period=self.period,
            count=self.count,
            quorum=self.quorum,
            lecturer_role=self.lecturer_role,
        )


class Exemption(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="exemptions"
    )
    requirement_code = models.SlugField(_("requirement"), max_length=40)
    start = models.DateField(_("from"))
    end = models.DateField(_("until (exclusive)"))
    reason = models.CharField(_("reason"), max_length=300)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by_name = models.CharField(_("approved by"), max_length=150)
    approved_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="partylife_exemption_dates")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.requirement_code} {self.start}–{self.end}"


class ComplianceSnapshot(models.Model):
    """The compliance of every organization under ``unit`` for a closed period, frozen (never changed)."""

    unit = models.ForeignKey(Unit, verbose_name=_("scope"), on_delete=models.PROTECT, related_name="+")
    start = models.DateField(_("from"))
    end = models.DateField(_("until (exclusive)"))
    data = models.JSONField(_("figures"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    frozen_by_name = models.CharField(_("frozen by"), max_length=150)
    frozen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("compliance snapshot")
        verbose_name_plural = _("compliance snapshots")
        constraints = [
            models.UniqueConstraint(fields=["unit", "start", "end"], name="partylife_snapshot_once")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.start}–{self.end}"


# ---------------------------------------------------------------- heart-to-heart talks


class Talk(models.Model):
    unit = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="talks"
    )
    held_on = models.DateField(_("date"), db_index=True)
    topic = models.CharField(_("topic"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    participants: models.ManyToManyField[Person, TalkParticipant] = models.ManyToManyField(
        Person, through="TalkParticipant", related_name="talks", verbose_name=_("participants")
    )
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    withdrawn_reason = models.CharField(_("reason withdrawn"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("heart-to-heart talk")
        verbose_name_plural = _("heart-to-heart talks")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} ({self.held_on})"


class TalkParticipant(models.Model):
    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="participations")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="talk_participations")

    class Meta:
        verbose_name = _("talk participant")
        verbose_name_plural = _("talk participants")
        constraints = [models.UniqueConstraint(fields=["talk", "person"], name="partylife_talk_person_once")]

    def __str__(self) -> str:
        return f"{self.talk_id} · {self.person_id}"


# ---------------------------------------------------------------- membership pipeline


class Stage(models.TextChoices):
    APPLICANT = pipeline.APPLICANT, _("Applicant")
    ACTIVIST = pipeline.ACTIVIST, _("Activist")
    CANDIDATE = pipeline.CANDIDATE, _("Candidate")
    PROBATIONARY = pipeline.PROBATIONARY, _("Probationary member")
    FULL_MEMBER = pipeline.FULL_MEMBER, _("Full member")


class MembershipCase(models.Model):
    """One person's way into the party, from the application (入党申请书) on."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="membership_cases"
    )
    branch = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="membership_cases"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.APPLICANT)
    applied_on = models.DateField(_("application date"))
    talked_on = models.DateField(_("first talk"), null=True, blank=True)
    activist_on = models.DateField(_("activist since"), null=True, blank=True)
    candidate_on = models.DateField(_("candidate since"), null=True, blank=True)
    probationary_on = models.DateField(_("probationary since"), null=True, blank=True)
    extension_months = models.PositiveSmallIntegerField(_("probation extended (months)"), default=0)
    full_on = models.DateField(_("full member since"), null=True, blank=True)
    introducers = models.ManyToManyField(
        Person, related_name="introduced_cases", blank=True, verbose_name=_("introducers")
    )
    closed = models.BooleanField(_("closed"), default=False)
    closed_reason = models.CharField(_("reason closed"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership case")
        verbose_name_plural = _("membership cases")
        ordering = ["applied_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(closed=False), name="partylife_one_open_case_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_stage_display()}"

    def dates(self) -> pipeline.CaseDates:
        return pipeline.CaseDates(
            applied_on=self.applied_on,
            talked_on=self.talked_on,
            activist_on=self.activist_on,
            candidate_on=self.candidate_on,
            probationary_on=self.probationary_on,
            extension_months=self.extension_months,
            full_on=self.full_on,
        )


class MembershipStep(models.Model):
    """History of a case (one row per step; never changed)."""

    case = models.ForeignKey(MembershipCase, on_delete=models.CASCADE, related_name="steps")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership step")
        verbose_name_plural = _("membership steps")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} {self.on}"


# ---------------------------------------------------------------- posts and contact points


class PostKind(models.TextChoices):
    MODEL = "model", _("Model post")
    VANGUARD = "vanguard", _("Vanguard post")
    RESPONSIBILITY_AREA = "responsibility_area", _("Responsibility area")


class PartyPost(models.Model):
    """A model post (示范岗), vanguard post (先锋岗) or responsibility area (责任区), designated to a
    person or a team for a period."""

    kind = models.CharField(_("type"), max_length=20, choices=PostKind.choices)
    name = models.CharField(_("name"), max_length=120)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="party_posts"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_posts",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_posts",
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until (inclusive)"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("party post")
        verbose_name_plural = _("party posts")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(team__isnull=True))
                | (Q(person__isnull=True) & Q(team__isnull=False)),
                name="partylife_post_person_xor_team",
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="partylife_post_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"


class ContactPoint(models.Model):
    """A leader's contact point (基层党建联系点): a leader linked to a party organization."""

    leader = models.ForeignKey(
        Person, verbose_name=_("leader"), on_delete=models.PROTECT, related_name="contact_points"
    )
    branch = models.ForeignKey(
        Unit, verbose_name=_("party organization"), on_delete=models.PROTECT, related_name="contact_points"
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until (inclusive)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="partylife_contact_dates"
            )
        ]

    def __str__(self) -> str:
        return f"{self.leader} → {self.branch}"


class ContactVisit(models.Model):
    contact_point = models.ForeignKey(ContactPoint, on_delete=models.PROTECT, related_name="visits")
    visited_on = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact visit")
        verbose_name_plural = _("contact visits")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.contact_point} {self.visited_on}"
