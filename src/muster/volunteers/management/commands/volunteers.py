"""``muster volunteers``: skills, profiles, open shifts and sign-up, call-ups from the command line.

    muster volunteers skill CODE NAME [--order N] [--inactive]
    muster volunteers skills
    muster volunteers profile PERSON [--skill CODE[:YYYY-MM-DD]]… [--window D:HH:MM-HH:MM]… [--off DATE]…
                              [--home FROM:TO]… [--max-hours N] [--no-nights]
    muster volunteers open-shifts PERSON [--all]            the open shifts that fit (or all, with why not)
    muster volunteers open SHIFT_ID… (--team CODE | --unit CODE) --deadline ISO --cutoff ISO
    muster volunteers signup OPENING_ID PERSON [--wait]
    muster volunteers cancel SIGNUP_ID
    muster volunteers callup UNIT TITLE --need N --start ISO --end ISO --deadline ISO
                              (--team CODE | --audience CODE) [--skill CODE]… [--place TEXT] [--batch CODE]
    muster volunteers answers CALLUP                         figures and answers
    muster volunteers pick CALLUP [PERSON…] [--engine] [--batch CODE]
    muster volunteers import FILE [--dry-run]                profiles from .xlsx/.csv, all or nothing
    muster volunteers export FILE [--unit CODE] [--sheet KEY] .xlsx: every sheet; .csv: the sheet named

Without ``--as`` the command acts as the system operator; with ``--as`` it has that user's rights.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from muster import dates
from muster.audit.context import origin
from muster.mobilize.queries import deployment_get_or_404, shift_get_or_404
from muster.orgs import access
from muster.orgs.cli import actor_for, service_errors
from muster.orgs.models import Team, Unit
from muster.tabular.errors import TabularError
from muster.tabular.reader import check_size
from muster.volunteers import profile_export, profile_io, queries, services
from muster.volunteers.models import CallUpInvite, Opening, SignUp, Skill


def _day(text: str) -> date:
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("%(text)s is not a date (YYYY-MM-DD).") % {"text": text}) from None
    if not dates.day_in_range(d):
        raise CommandError(dates.date_range_message())
    return d


def _moment(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("%(text)s is not a date and time (YYYY-MM-DDTHH:MM).") % {"text": text}
        ) from None
    if not dates.day_in_range(dt.date()):
        raise CommandError(dates.date_range_message())
    return dt if timezone.is_aware(dt) else dt.replace(tzinfo=queries.tz())


def _hm(text: str) -> int:
    try:
        h, m = text.split(":")
        value = int(h) * 60 + int(m)
    except ValueError:
        raise CommandError(_("%(text)s is not a time (HH:MM).") % {"text": text}) from None
    if not 0 <= value <= 1440:
        raise CommandError(_("%(text)s is not a time (HH:MM).") % {"text": text})
    return value


class Command(BaseCommand):
    help = _("Volunteers: skills, profiles, open shifts and sign-up, call-ups.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sk = sub.add_parser("skill", help=_("Add or rename a skill."))
        sk.add_argument("code")
        sk.add_argument("name")
        sk.add_argument("--order", type=int, default=0)
        sk.add_argument("--inactive", action="store_true")
        sub.add_parser("skills", help=_("The skill list."))
        pr = sub.add_parser("profile", help=_("Show or set a person's profile."))
        pr.add_argument("person")
        pr.add_argument("--skill", action="append", default=None, help="CODE or CODE:YYYY-MM-DD")
        pr.add_argument("--window", action="append", default=None, help="weekday 1-7:HH:MM-HH:MM")
        pr.add_argument("--off", action="append", default=None)
        pr.add_argument("--home", action="append", default=None, help="FROM:TO")
        pr.add_argument("--max-hours", type=int, default=None)
        pr.add_argument("--no-nights", action="store_true")
        os_ = sub.add_parser("open-shifts", help=_("The open shifts that fit a person."))
        os_.add_argument("person")
        os_.add_argument("--all", action="store_true")
        op = sub.add_parser("open", help=_("Open shifts for sign-up."))
        op.add_argument("shifts", nargs="+", type=int)
        op.add_argument("--team")
        op.add_argument("--unit")
        op.add_argument("--deadline", required=True)
        op.add_argument("--cutoff", required=True)
        su = sub.add_parser("signup", help=_("Sign a person up for an open shift."))
        su.add_argument("opening", type=int)
        su.add_argument("person")
        su.add_argument("--wait", action="store_true")
        ca = sub.add_parser("cancel", help=_("Cancel a sign-up."))
        ca.add_argument("signup", type=int)
        cu = sub.add_parser("callup", help=_("Send a call-up (集结号)."))
        cu.add_argument("unit")
        cu.add_argument("title")
        cu.add_argument("--need", type=int, required=True)
        cu.add_argument("--start", required=True)
        cu.add_argument("--end", required=True)
        cu.add_argument("--deadline", required=True)
        cu.add_argument("--team")
        cu.add_argument("--audience")
        cu.add_argument("--skill", action="append", default=[])
        cu.add_argument("--place", default="")
        cu.add_argument("--batch")
        an = sub.add_parser("answers", help=_("A call-up's figures and answers."))
        an.add_argument("callup")
        pk = sub.add_parser("pick", help=_("Pick people of a call-up into its batch."))
        pk.add_argument("callup")
        pk.add_argument("people", nargs="*")
        pk.add_argument("--engine", action="store_true")
        pk.add_argument("--batch")
        im = sub.add_parser("import", help=_("Import volunteer profiles (all or nothing)."))
        im.add_argument("file")
        im.add_argument("--dry-run", action="store_true", help=_("Check only; write nothing."))
        ex = sub.add_parser("export", help=_("Export volunteer profiles (.xlsx or .csv)."))
        ex.add_argument("file")
        ex.add_argument("--unit")
        ex.add_argument("--sheet", choices=profile_export.SHEETS, default="volunteers")
        for p in (sk, pr, os_, op, su, ca, cu, an, pk, im, ex):
            p.add_argument(
                "--as", dest="as_user", metavar="USERNAME", help=_("Act as this user, with their rights.")
            )

    def handle(self, *args: Any, **options: Any) -> None:
        with origin(None, "cli"), service_errors():
            action = options["action"]
            if action == "skills":
                for s in Skill.objects.all():
                    self.stdout.write(f"{s.code}\t{s.name}\t{'' if s.is_active else _('inactive')}")
                return
            actor = actor_for(options.get("as_user"))
            getattr(self, "_" + action.replace("-", "_"))(actor, options)

    def _import(self, actor: Any, o: dict[str, Any]) -> None:
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            check_size(path.name, path.stat().st_size)
            result = profile_io.volunteer_import(
                actor=actor, filename=path.name, data=path.read_bytes(), dry_run=o["dry_run"]
            )
        except TabularError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.summary()) from None
        except access.NotAllowed:
            raise CommandError(_("This user may not import volunteer profiles.")) from None
        self.stdout.write(profile_io.summary(result))

    def _export(self, actor: Any, o: dict[str, Any]) -> None:
        path = Path(o["file"])
        fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
        unit = None
        if o["unit"]:
            unit = access.scoped(Unit.objects.filter(code=o["unit"]), actor).first()
            if unit is None:
                raise CommandError(_("Not found (or not visible to this user)."))
        data, _ctype, _name = profile_export.volunteer_export(
            actor=actor, fmt=fmt, unit=unit, sheet=o["sheet"]
        )
        path.write_bytes(data)
        self.stdout.write(_("Written %(path)s.") % {"path": path})

    def _skill(self, actor: Any, o: dict[str, Any]) -> None:
        s = services.skill_save(
            actor=actor, code=o["code"], name=o["name"], order=o["order"], is_active=not o["inactive"]
        )
        self.stdout.write(_("Skill %(code)s saved.") % {"code": s.code})

    def _profile(self, actor: Any, o: dict[str, Any]) -> None:
        p = queries.person_get_or_404(actor, o["person"])
        changing = (
            any(o[k] is not None for k in ("skill", "window", "off", "home", "max_hours")) or o["no_nights"]
        )
        if changing:
            quals = None
            if o["skill"] is not None:
                quals = []
                for item in o["skill"]:
                    code, _sep, until = item.partition(":")
                    quals.append(services.QualificationIn(code, _day(until) if until else None))
            windows = None
            if o["window"] is not None:
                windows = []
                for item in o["window"]:
                    wd, _sep, span = item.partition(":")
                    a, _sep2, b = span.partition("-")
                    if not wd.isdigit() or not 1 <= int(wd) <= 7 or not b:
                        raise CommandError(_("A window is weekday 1-7:HH:MM-HH:MM, e.g. 1:08:00-12:00."))
                    windows.append(services.WindowIn(int(wd) - 1, _hm(a), _hm(b)))
            homes = None
            if o["home"] is not None:
                homes = []
                for item in o["home"]:
                    a, _sep, b = item.partition(":")
                    homes.append((_day(a), _day(b)))
            prof = getattr(p, "volunteer_profile", None)
            services.profile_set(
                actor=actor,
                person=p,
                available_from=prof.available_from if prof else None,
                available_until=prof.available_until if prof else None,
                max_hours_week=o["max_hours"]
                if o["max_hours"] is not None
                else (prof.max_hours_week if prof else None),
                no_nights=o["no_nights"] or (prof.no_nights if prof else False),
                windows=windows,
                days_off=None if o["off"] is None else [_day(x) for x in o["off"]],
                home_observation=homes,
                qualifications=quals,
            )
            p.refresh_from_db()
        from muster.volunteers.api import profile_out

        data = profile_out(actor, p)
        for key in ("person", "name", "max_hours_week", "no_nights"):
            self.stdout.write(f"{key}: {data[key]}")
        for q in data["qualifications"]:
            self.stdout.write(f"skill: {q['skill']} {q['valid_until'] or ''}".rstrip())
        for w in data["windows"]:
            self.stdout.write(
                f"window: {w['weekday'] + 1} {w['start_minute'] // 60:02d}:{w['start_minute'] % 60:02d}-"
                f"{w['end_minute'] // 60:02d}:{w['end_minute'] % 60:02d}"
            )
        for d in data["days_off"]:
            self.stdout.write(f"off: {d}")
        for h in data["home_observation"]:
            self.stdout.write(f"home observation: {h['start']} {h['end']}")

    def _open_shifts(self, actor: Any, o: dict[str, Any]) -> None:
        p = queries.person_get_or_404(actor, o["person"])
        for r in queries.open_shifts(p, only_fitting=not o["all"], load=True):
            why = ", ".join([m.code for m in r.misfits] + [b.message for b in r.breaches])
            self.stdout.write(
                f"{r.opening_id}\t{r.opening.shift if r.opening else r.shift_id}\t{r.taken}/{r.seats}\t"
                f"{r.mine}\t{why}".rstrip()
            )

    def _open(self, actor: Any, o: dict[str, Any]) -> None:
        shifts = [shift_get_or_404(actor, pk=pk) for pk in dict.fromkeys(o["shifts"])]
        team = access.scoped(Team.objects.filter(code=o["team"]), actor).first() if o["team"] else None
        unit = access.scoped(Unit.objects.filter(code=o["unit"]), actor).first() if o["unit"] else None
        if (o["team"] and team is None) or (o["unit"] and unit is None):
            raise CommandError(_("Not found (or not visible to this user)."))
        out = services.shifts_open(
            actor=actor,
            shifts=shifts,
            team=team,
            unit=unit,
            deadline=_moment(o["deadline"]),
            cancel_cutoff=_moment(o["cutoff"]),
        )
        self.stdout.write(
            _("%(n)s shifts opened: %(ids)s") % {"n": len(out), "ids": " ".join(str(x.pk) for x in out)}
        )

    def _signup(self, actor: Any, o: dict[str, Any]) -> None:
        opening = Opening.objects.filter(pk=o["opening"]).first()
        if opening is None:
            raise CommandError(_("Not found (or not visible to this user)."))
        p = queries.person_get_or_404(actor, o["person"])
        su = services.signup_create(actor=actor, opening=opening, person=p, wait=o["wait"])
        self.stdout.write(f"{su.pk}\t{p.code}\t{su.status}")

    def _cancel(self, actor: Any, o: dict[str, Any]) -> None:
        su = SignUp.objects.select_related("person").filter(pk=o["signup"]).first()
        if su is None:
            raise CommandError(_("Not found (or not visible to this user)."))
        res = services.signup_cancel(actor=actor, signup=su)
        self.stdout.write(
            _("Cancelled.") + (f" {res.promoted.person.code} ← " + _("waiting list") if res.promoted else "")
        )

    def _callup(self, actor: Any, o: dict[str, Any]) -> None:
        unit = access.scoped(Unit.objects.filter(code=o["unit"]), actor).first()
        team = access.scoped(Team.objects.filter(code=o["team"]), actor).first() if o["team"] else None
        aud = access.scoped(Unit.objects.filter(code=o["audience"]), actor).first() if o["audience"] else None
        if unit is None or (o["team"] and team is None) or (o["audience"] and aud is None):
            raise CommandError(_("Not found (or not visible to this user)."))
        batch = deployment_get_or_404(actor, code=o["batch"]) if o["batch"] else None
        c = services.callup_create(
            actor=actor,
            unit=unit,
            title=o["title"],
            people_needed=o["need"],
            start=_moment(o["start"]),
            end=_moment(o["end"]),
            deadline=_moment(o["deadline"]),
            team=team,
            audience_unit=aud,
            skills=o["skill"],
            place=o["place"],
            deployment=batch,
        )
        self.stdout.write(_("Call-up %(code)s sent to %(n)s people.") % {"code": c.code, "n": c.invited})

    def _answers(self, actor: Any, o: dict[str, Any]) -> None:
        c = queries.callup_get_or_404(actor, o["callup"])
        f = queries.callup_figures(c)
        self.stdout.write(
            _(
                "%(yes)s of %(need)s said yes; %(answered)s of %(invited)s answered (%(rate)s%%); "
                "time to fill: %(fill)s"
            )
            % {
                "yes": f.yes,
                "need": c.people_needed,
                "answered": f.answered,
                "invited": f.invited,
                "rate": round(f.response_rate * 100, 1),
                "fill": "—" if f.minutes_to_fill is None else _("%(n)s min") % {"n": f.minutes_to_fill},
            }
        )
        for i in CallUpInvite.objects.filter(callup=c).exclude(answer="").select_related("person"):
            mark = "*" if i.picked else ""
            self.stdout.write(f"{i.person.code}\t{i.person.name}\t{i.answer}\t{i.reason}\t{mark}".rstrip())

    def _pick(self, actor: Any, o: dict[str, Any]) -> None:
        c = queries.callup_get_or_404(actor, o["callup"])
        people = (
            services.callup_suggest(c)
            if o["engine"]
            else [queries.person_get_or_404(actor, x) for x in o["people"]]
        )
        batch = deployment_get_or_404(actor, code=o["batch"]) if o["batch"] else None
        services.callup_pick(actor=actor, callup=c, people=people, deployment=batch)
        self.stdout.write(
            _("%(n)s people picked: %(codes)s")
            % {"n": len(people), "codes": " ".join(p.code for p in people)}
        )
