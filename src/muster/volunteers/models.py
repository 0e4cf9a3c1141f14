"""The volunteer's side: skills and qualifications, availability, preferences, limits, home observation,
what a shift needs, shifts opened for sign-up (报名) with a waiting list (候补), and call-ups (集结号).

A shift's needs live here, one-to-one with ``mobilize.Shift`` (mobilization knows nothing of skills).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from muster.mobilize.models import Deployment, Shift
from muster.orgs.models import Person, Team, Unit


class Skill(models.Model):
    """An entry of the skill list (医护, 驾驶, 心理疏导, 外语, 党员突击队 …): data, not code."""

    code = models.SlugField(_("code"), max_length=40, unique=True, allow_unicode=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """A person holds a skill, until ``valid_until`` (included; empty: no expiry)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="qualifications")
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.PROTECT, related_name="+")
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        constraints = [models.UniqueConstraint(fields=["person", "skill"], name="uniq_person_skill")]

    def __str__(self) -> str:
        return f"{self.person} · {self.skill}"


class Profile(models.Model):
    """A person's overall availability period and personal limits."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="volunteer_profile")
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    max_hours_week = models.PositiveSmallIntegerField(_("most hours a week"), null=True, blank=True)
    no_nights = models.BooleanField(_("no night shifts"), default=False)
    # when the person became a registered volunteer (the report figure "registered volunteers" as of a cutoff)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("volunteer profile")
        verbose_name_plural = _("volunteer profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(available_until__isnull=True)
                | Q(available_from__isnull=True)
                | Q(available_until__gte=F("available_from")),
                name="profile_period_order",
            )
        ]

    def __str__(self) -> str:
        return str(self.person)


class WeeklyWindow(models.Model):
    """A weekly window the person is available in: ``weekday`` (0 = Monday), minutes of the day."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="weekly_windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start_minute = models.PositiveSmallIntegerField(_("from"))
    end_minute = models.PositiveSmallIntegerField(_("to"))

    class Meta:
        verbose_name = _("weekly window")
        verbose_name_plural = _("weekly windows")
        ordering = ["weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_minute__gt=F("start_minute")), name="window_end_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6, end_minute__lte=1440), name="window_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.weekday} {self.start_minute}-{self.end_minute}"


class DayOff(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="days_off")
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["person", "day"], name="uniq_person_day_off")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.day}"


class HomeObservation(models.Model):
    """居家观察 from ``start`` to ``end`` (both days included): remote seats only."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="home_observations")
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))

    class Meta:
        verbose_name = _("home observation")
        verbose_name_plural = _("home observations")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="homeobs_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.start}–{self.end}"


class PreferenceKind(models.TextChoices):
    KIND = "kind", _("Shift kind")  # hotline, duty, dispatch
    SITE = "site", _("Site")  # a post code or a place
    TIME = "time", _("Time of day")  # morning, evening, night


class Preference(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="shift_preferences")
    kind = models.CharField(_("about"), max_length=8, choices=PreferenceKind.choices)
    value = models.CharField(_("value"), max_length=100)
    wanted = models.BooleanField(_("wanted"), default=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "value"], name="uniq_person_preference"),
            models.CheckConstraint(condition=Q(weight__gte=1, weight__lte=10), name="preference_weight"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind}={self.value} ({self.weight})"


class ShiftNeed(models.Model):
    """What a shift needs: skills (every one of ``skills_all``, at least one of ``skills_any``), a minimum
    of party members, a minimum of people holding ``min_skill``. On site or remote is ``Shift.mode``."""

    shift = models.OneToOneField(Shift, on_delete=models.CASCADE, related_name="need")
    skills_all = models.ManyToManyField(Skill, verbose_name=_("needs all of"), blank=True, related_name="+")
    skills_any = models.ManyToManyField(Skill, verbose_name=_("needs one of"), blank=True, related_name="+")
    min_party_members = models.PositiveSmallIntegerField(_("party members at least"), default=0)
    min_skill = models.ForeignKey(
        Skill,
        verbose_name=_("skill counted"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    min_skill_count = models.PositiveSmallIntegerField(_("holders at least"), default=0)

    class Meta:
        verbose_name = _("shift needs")
        verbose_name_plural = _("shift needs")

    def __str__(self) -> str:
        return f"needs of {self.shift_id}"


class Opening(models.Model):
    """A shift open for sign-up to one audience: a team, or the people of a unit or party branch."""

    shift = models.OneToOneField(Shift, on_delete=models.CASCADE, related_name="opening")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deadline = models.DateTimeField(_("sign-up deadline"), db_index=True)
    cancel_cutoff = models.DateTimeField(_("cancellation cut-off"))
    is_open = models.BooleanField(_("open"), default=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("open shift")
        verbose_name_plural = _("open shifts")
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False, unit__isnull=True) | Q(team__isnull=True, unit__isnull=False),
                name="opening_one_audience",
            )
        ]

    def __str__(self) -> str:
        return f"opening of {self.shift_id}"


class SignUpStatus(models.TextChoices):
    SEATED = "seated", _("Signed up")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class SignUp(models.Model):
    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("status"), max_length=10, choices=SignUpStatus.choices)
    created_at = models.DateTimeField(_("signed up at"), db_index=True)
    changed_at = models.DateTimeField(_("changed at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opening", "person"],
                condition=~Q(status="cancelled"),
                name="uniq_live_signup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} on {self.opening_id}: {self.status}"


class CallUp(models.Model):
    """集结号: a call for ``people_needed`` volunteers to a team, unit or party branch."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    unit = models.ForeignKey(Unit, verbose_name=_("calling unit"), on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    audience_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("task"), max_length=200)
    place = models.CharField(_("place"), max_length=200, blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), blank=True, related_name="+")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    people_needed = models.PositiveIntegerField(_("people needed"))
    deadline = models.DateTimeField(_("answer by"))
    deployment = models.ForeignKey(
        Deployment, verbose_name=_("batch"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invited = models.PositiveIntegerField(_("invited"), default=0)
    filled_at = models.DateTimeField(_("filled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("called at"))

    class Meta:
        verbose_name = _("call-up")
        verbose_name_plural = _("call-ups")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="callup_end_after_start"),
            models.CheckConstraint(
                condition=Q(team__isnull=False, audience_unit__isnull=True)
                | Q(team__isnull=True, audience_unit__isnull=False),
                name="callup_one_audience",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


def new_token() -> str:
    return secrets.token_urlsafe(18)


class AnswerChoice(models.TextChoices):
    YES = "yes", _("I'll go (报名)")
    NO = "no", _("Cannot attend (不能参加)")


class CallUpInvite(models.Model):
    """One invited person, with the secret of the answer link in their message and their answer."""

    callup = models.ForeignKey(CallUp, on_delete=models.CASCADE, related_name="invites")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="callup_invites")
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    answer = models.CharField(_("answer"), max_length=4, choices=AnswerChoice.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    picked = models.BooleanField(_("picked"), default=False)

    class Meta:
        verbose_name = _("call-up answer")
        verbose_name_plural = _("call-up answers")
        ordering = ["answered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["callup", "person"], name="uniq_callup_person")]

    def __str__(self) -> str:
        return f"{self.callup_id} · {self.person_id}"
