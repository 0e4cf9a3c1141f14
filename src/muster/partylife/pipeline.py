"""The membership pipeline (发展党员): stages and standard waiting periods — pure Python, no Django.

applicant (入党申请人) → activist (入党积极分子) → candidate (发展对象) → probationary member (预备党员)
→ full member (正式党员). The periods below are the national standard; each names its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from muster.partylife.compliance import add_months

APPLICANT, ACTIVIST, CANDIDATE, PROBATIONARY, FULL_MEMBER = (
    "applicant",
    "activist",
    "candidate",
    "probationary",
    "full_member",
)
STAGES = (APPLICANT, ACTIVIST, CANDIDATE, PROBATIONARY, FULL_MEMBER)

# 党章 第一条: "年满十八岁的…先进分子…可以申请加入中国共产党".
MIN_AGE_YEARS = 18
# 《中国共产党发展党员工作细则》(2014): "党组织收到入党申请书后，应当在一个月内派人同入党申请人谈话".
TALK_WITHIN_MONTHS = 1
# 同细则: "对经过一年以上培养教育和考察、基本具备党员条件的入党积极分子…可列为发展对象".
ACTIVIST_MIN_MONTHS = 12
# 党章 第五条: "发展党员，必须…有两名正式党员作介绍人".
INTRODUCERS_REQUIRED = 2
# 同细则: 发展对象 "短期集中培训…时间一般不少于三天（或不少于24个学时）" (shown as a reminder).
CANDIDATE_TRAINING_DAYS = 3
# 同细则: 支部大会通过后 "上级党委…应当在三个月内审批" (shown as a deadline).
APPROVAL_WITHIN_MONTHS = 3
# 党章 第七条: "预备党员的预备期为一年"; "可以延长一次预备期，延长时间不能超过一年".
PROBATION_MONTHS = 12
MAX_EXTENSION_MONTHS = 12


def next_stage(stage: str) -> str | None:
    i = STAGES.index(stage)
    return STAGES[i + 1] if i + 1 < len(STAGES) else None


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class CaseDates:
    applied_on: date
    talked_on: date | None = None
    activist_on: date | None = None
    candidate_on: date | None = None
    probationary_on: date | None = None
    extension_months: int = 0
    full_on: date | None = None


def earliest(stage: str, d: CaseDates) -> date | None:
    """The earliest date a case may enter ``stage`` by the standard periods (None: no minimum)."""
    if stage == CANDIDATE and d.activist_on:
        return add_months(d.activist_on, ACTIVIST_MIN_MONTHS)
    if stage == FULL_MEMBER and d.probationary_on:
        return add_months(d.probationary_on, PROBATION_MONTHS + d.extension_months)
    return None


# Problem codes returned by ``check_advance``; the service turns them into translated messages.
WRONG_ORDER = "wrong_order"
TOO_EARLY = "too_early"
UNDER_AGE = "under_age"
INTRODUCERS = "introducers"
BEFORE_PREVIOUS = "before_previous"
EXTENSION_TOO_LONG = "extension_too_long"


def check_advance(
    current: str,
    target: str,
    *,
    on: date,
    dates: CaseDates,
    birth_date: date | None = None,
    introducers: int = 0,
) -> list[tuple[str, dict[str, str]]]:
    """What stops a case moving from ``current`` to ``target`` on ``on`` (empty: nothing)."""
    problems: list[tuple[str, dict[str, str]]] = []
    if next_stage(current) != target:
        problems.append((WRONG_ORDER, {"current": current, "target": target}))
        return problems
    last = max(
        d
        for d in (dates.applied_on, dates.activist_on, dates.candidate_on, dates.probationary_on)
        if d is not None
    )
    if on < last:
        problems.append((BEFORE_PREVIOUS, {"date": last.isoformat()}))
    first = earliest(target, dates)
    if first is not None and on < first:
        problems.append((TOO_EARLY, {"date": first.isoformat()}))
    if target == PROBATIONARY and introducers < INTRODUCERS_REQUIRED:
        problems.append((INTRODUCERS, {"count": str(introducers)}))
    if birth_date is not None and target == ACTIVIST and age_on(birth_date, dates.applied_on) < MIN_AGE_YEARS:
        problems.append((UNDER_AGE, {"age": str(age_on(birth_date, dates.applied_on))}))
    return problems


@dataclass(frozen=True)
class Milestone:
    code: str  # talk_due · candidate_eligible · training · committee_approval · full_membership_due
    date: date
    status: str  # waiting (not yet), due (now), overdue (deadline passed)


def milestones(stage: str, d: CaseDates, *, through: date) -> list[Milestone]:
    """What is due next for a case, as of the day ``through``."""
    out: list[Milestone] = []
    if stage == APPLICANT and d.talked_on is None:
        deadline = add_months(d.applied_on, TALK_WITHIN_MONTHS)
        out.append(Milestone("talk_due", deadline, "overdue" if through > deadline else "due"))
    elif stage == ACTIVIST and d.activist_on:
        e = add_months(d.activist_on, ACTIVIST_MIN_MONTHS)
        out.append(Milestone("candidate_eligible", e, "due" if through >= e else "waiting"))
    elif stage == CANDIDATE and d.candidate_on:
        out.append(Milestone("training", d.candidate_on, "due"))
    elif stage == PROBATIONARY and d.probationary_on:
        e = add_months(d.probationary_on, PROBATION_MONTHS + d.extension_months)
        out.append(Milestone("full_membership_due", e, "due" if through >= e else "waiting"))
    return out
