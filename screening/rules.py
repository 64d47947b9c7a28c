"""The rules that judge a client against a massage type on a day.

`evaluate` is pure: plain facts in, a Verdict out, no database, so the tests
drive it table by table. `screening.selectors.verdict_for` loads the facts.
`RULES` holds the decision for every catalogue code, so the catalogue (seeded
by migration 0003) and the rules cannot drift: a test checks both ways.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from clients.allergens import allergen_label
from parlor.formats import day_long

ADULT_AGE = 18
# Therapeutic back massage is only ever done on a doctor's referral, whatever
# the massage type's flag says.
ALWAYS_NEEDS_REFERRAL = frozenset({"therapeutic-back"})
# Acute back pain blocks this type on the day; elsewhere it needs a permission.
NEVER_WHEN_ACUTE = frozenset({"therapeutic-back"})
FIRST_TRIMESTER_LAST_WEEK = 13


class Status(StrEnum):
    ALLOWED = "allowed"
    ADAPTED = "adapted"
    NEEDS_CLEARANCE = "needs-clearance"
    NEEDS_SCREENING = "needs-screening"
    BLOCKED = "blocked"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])

    @property
    def badge(self) -> str:
        """The Bootstrap background class of the status badge."""
        return _BADGES[self]

    @property
    def severity(self) -> int:
        return _SEVERITY.index(self)


# Least to most severe: the verdict takes the most severe status found.
_SEVERITY = [Status.ALLOWED, Status.ADAPTED, Status.NEEDS_CLEARANCE, Status.NEEDS_SCREENING, Status.BLOCKED]
_STATUS_LABELS = {
    Status.ALLOWED: gettext_lazy("allowed"),
    Status.ADAPTED: gettext_lazy("allowed with adaptations"),
    Status.NEEDS_CLEARANCE: gettext_lazy("needs a clearance"),
    Status.NEEDS_SCREENING: gettext_lazy("needs a screening"),
    Status.BLOCKED: gettext_lazy("blocked"),
}
_BADGES = {
    Status.ALLOWED: "bg-success",
    Status.ADAPTED: "bg-warning text-dark",
    Status.NEEDS_CLEARANCE: "bg-primary",
    # Bootstrap has no orange background class; parlor.css adds one (no inline style: CSP).
    Status.NEEDS_SCREENING: "bg-orange text-white",
    Status.BLOCKED: "bg-danger",
}


class Kind(StrEnum):
    # Mirrors Contraindication.Kind without importing the models.
    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    LOCAL = "local"
    PRODUCT = "product"


class Effect(StrEnum):
    BLOCK = "block"  # no massage while present
    ADAPT = "adapt"  # allowed with the rule's adaptation
    CLEARANCE = "clearance"  # a doctor's permission covering it, valid on the day
    PREGNANCY = "pregnancy"  # first trimester blocks; later the sacrum and coccyx are avoided
    ACUTE_BACK = "acute-back"  # blocks therapeutic massage on the day, else needs a permission
    AREA = "area"  # a local area never worked
    PRODUCT = "product"  # the recorded allergens are not used


DIRECTION_BOTTOM_UP = "bottom-up"
DIRECTION_NECK_DOWN = "neck-down"


@dataclass(frozen=True)
class Rule:
    kind: Kind
    effect: Effect
    day_of: bool = False
    adaptation: str = ""  # lazily translated reason of the adaptation
    avoid: tuple[str, ...] = ()  # area codes
    direction: str = ""
    universal: bool = False  # a local area avoided for everyone


_a, _r = Kind.ABSOLUTE, Kind.RELATIVE

RULES: dict[str, Rule] = {
    # Absolute: no massage while present.
    "fracture": Rule(_a, Effect.BLOCK),
    "osteomyelitis": Rule(_a, Effect.BLOCK),
    "periostitis": Rule(_a, Effect.BLOCK),
    "acute-infection": Rule(_a, Effect.BLOCK),
    "fever": Rule(_a, Effect.BLOCK, day_of=True),
    "clotting-disorder": Rule(_a, Effect.BLOCK),
    "thrombosis": Rule(_a, Effect.BLOCK),
    "internal-bleeding": Rule(_a, Effect.BLOCK),
    "open-wounds": Rule(_a, Effect.BLOCK),
    "ruptured-muscle": Rule(_a, Effect.BLOCK),
    "oncology": Rule(_a, Effect.BLOCK),
    "serious-cardiovascular": Rule(_a, Effect.BLOCK),
    "intoxication": Rule(_a, Effect.BLOCK, day_of=True),
    # Relative: an adapted technique or a doctor's permission.
    "high-blood-pressure": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("High blood pressure: work from the neck down, not bottom-up."),
        direction=DIRECTION_NECK_DOWN,
    ),
    "low-blood-pressure": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("Low blood pressure: start light and let the client get up slowly afterwards."),
    ),
    "kidney-disease": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("Kidney disease: no percussion over the kidneys."),
        avoid=("kidney-area",),
    ),
    "heart-disease": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("Heart disease: no patting or chopping over the heart area."),
        avoid=("heart-area",),
    ),
    "liver-disease": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("Liver disease: no patting or chopping over the liver area."),
    ),
    "skin-disease": Rule(_r, Effect.CLEARANCE),
    "allergic-reactions": Rule(
        _r,
        Effect.ADAPT,
        adaptation=gettext_lazy("Allergic reactions: use only products the client has tolerated before."),
    ),
    "pregnancy": Rule(_r, Effect.PREGNANCY, avoid=("sacrum-coccyx",)),
    "menstruation": Rule(
        _r,
        Effect.ADAPT,
        day_of=True,
        adaptation=gettext_lazy("Menstruation: ask how she feels; gentle on the lower back."),
    ),
    "acute-back-pain": Rule(_r, Effect.ACUTE_BACK, day_of=True),
    # Local: areas never worked.
    "spine": Rule(Kind.LOCAL, Effect.AREA, universal=True),
    "kidney-area": Rule(Kind.LOCAL, Effect.AREA, universal=True),
    "heart-area": Rule(Kind.LOCAL, Effect.AREA, universal=True),
    "lymph-nodes": Rule(Kind.LOCAL, Effect.AREA, universal=True),
    "sacrum-coccyx": Rule(Kind.LOCAL, Effect.AREA),
    # Products.
    "product-allergy": Rule(Kind.PRODUCT, Effect.PRODUCT),
}

# How each area is shown; the codes are the local catalogue entries.
AREAS: dict[str, str] = {
    "spine": gettext_lazy("the spine itself (work the muscles along it, never press the vertebrae)"),
    "kidney-area": gettext_lazy("the kidney area (no percussion)"),
    "heart-area": gettext_lazy("the heart area"),
    "lymph-nodes": gettext_lazy("lymph nodes (stroke toward them, never on them)"),
    "sacrum-coccyx": gettext_lazy("sacrum and coccyx (pregnancy)"),
}
UNIVERSAL_AREAS = tuple(code for code, rule in RULES.items() if rule.universal)

# language -> area code -> name. Every verdict names the universal areas at least: a calendar judges a
# few hundred clients a page, and translating each lazy name each time was a tenth of that.
_AREA_NAMES: dict[str | None, dict[str, str]] = {}


def area_names() -> Mapping[str, str]:
    """AREAS in the active language."""
    language = get_language()
    names = _AREA_NAMES.get(language)
    if names is None:
        names = _AREA_NAMES[language] = {code: str(name) for code, name in AREAS.items()}
    return names


# A code the manager adds to the catalogue later has no entry above; its kind
# decides, on the careful side.
_BY_KIND = {
    Kind.ABSOLUTE: Rule(Kind.ABSOLUTE, Effect.BLOCK),
    Kind.RELATIVE: Rule(Kind.RELATIVE, Effect.CLEARANCE),
    Kind.LOCAL: Rule(Kind.LOCAL, Effect.AREA),
    Kind.PRODUCT: Rule(Kind.PRODUCT, Effect.PRODUCT),
}


def rule_for(code: str, kind: str, is_day_of: bool = False) -> Rule:
    rule = RULES.get(code)
    if rule is not None:
        return rule
    fallback = _BY_KIND.get(Kind(kind), _BY_KIND[Kind.RELATIVE])
    return Rule(fallback.kind, fallback.effect, day_of=is_day_of)


# --- Facts in ---------------------------------------------------------------


@dataclass(frozen=True)
class ClientFacts:
    birth_date: datetime.date
    guardian_consent: bool = False
    allergens: tuple[str, ...] = ()

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


@dataclass(frozen=True)
class TypeFacts:
    code: str
    name: str
    requires_referral: bool = False
    min_age: int = 0


@dataclass(frozen=True)
class FindingFacts:
    code: str
    kind: str
    name: str
    is_day_of: bool = False
    note: str = ""
    details: Mapping = field(default_factory=dict)
    # The local date this finding was recorded, when it came from another screening than the one it
    # is judged in (a self-report merged onto staff findings, a day-of answer at check-in); None: the
    # screening's own date.
    taken_on: datetime.date | None = None


@dataclass(frozen=True)
class ScreeningFacts:
    taken_on: datetime.date  # the local (Kyiv) date it was taken
    findings: tuple[FindingFacts, ...] = ()
    pk: int | None = None


@dataclass(frozen=True)
class CourseFacts:
    """The course a session belongs to: a course starts only on a fresh screening, and its later
    sessions stay bookable while it runs, up to its nominal length past the limit."""

    starts_on: datetime.date  # the local date of its first session
    length_days: int  # how many days it takes as planned (10 daily sessions: 10)


@dataclass(frozen=True)
class ClearanceFacts:
    kind: str  # "referral" or "permission"
    issued_on: datetime.date
    valid_until: datetime.date  # inclusive
    covers_contraindication: str | None = None  # a catalogue code
    covers_massage_type: str | None = None  # a massage type code
    doctor_name: str = ""

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.issued_on <= day <= self.valid_until


# --- Verdict out ------------------------------------------------------------


@dataclass(frozen=True)
class Concern:
    """Something named: a blocker, a missing clearance or an area."""

    code: str
    name: str
    # Why it blocks or what it needs, as the verdict's reasons say it; not part of equality.
    reason: str = field(default="", compare=False)


@dataclass(frozen=True)
class FindingNote:
    """What was typed beside a finding ("lower back, left, 3 cm"): the masseur reads it before working."""

    code: str
    name: str
    note: str


@dataclass(frozen=True)
class Adaptation:
    code: str
    reason: str
    avoid: tuple[str, ...] = ()  # area codes, see AREAS
    direction: str = ""  # DIRECTION_NECK_DOWN when it changes the direction
    allergen: str = ""  # set for "allergen X not to be used"


@dataclass(frozen=True)
class Verdict:
    status: Status
    blockers: tuple[Concern, ...] = ()
    missing_clearances: tuple[Concern, ...] = ()
    adaptations: tuple[Adaptation, ...] = ()
    avoid_areas: tuple[Concern, ...] = ()
    direction: str = DIRECTION_BOTTOM_UP
    reasons: tuple[str, ...] = ()
    allergens: tuple[str, ...] = ()  # products never to be used on this client
    screening_taken_on: datetime.date | None = None
    day_of_checked: bool = False  # the screening was taken on the judged day
    # No screening, or one too old: kept apart from the status, which shows only the most severe.
    needs_screening: bool = False
    finding_notes: tuple[FindingNote, ...] = ()
    # Blockers a manager's written override covers (see overridden()); no longer in `blockers`.
    overridden_blockers: tuple[Concern, ...] = ()

    @property
    def is_bookable(self) -> bool:
        return self.status in (Status.ALLOWED, Status.ADAPTED)

    @property
    def blocker_codes(self) -> frozenset[str]:
        return frozenset(b.code for b in self.blockers)

    @property
    def other_reasons(self) -> tuple[str, ...]:
        """The reasons that are not an adaptation, for a page that lists the adaptations apart."""
        adaptations = {a.reason for a in self.adaptations}
        return tuple(r for r in self.reasons if r not in adaptations)

    def overridden(self, covered) -> "Verdict":
        """The verdict once the blockers in `covered` (codes a manager's written override covers) no
        longer block: the status is the most severe of what is left. A block the override does not
        name still blocks; an override never stands in for a missing clearance or screening."""
        covered = frozenset(covered)
        kept = tuple(b for b in self.blockers if b.code not in covered)
        lifted = tuple(b for b in self.blockers if b.code in covered)
        if not lifted:
            return self
        statuses = {Status.ALLOWED}
        if kept:
            statuses.add(Status.BLOCKED)
        if self.needs_screening:
            statuses.add(Status.NEEDS_SCREENING)
        if self.missing_clearances:
            statuses.add(Status.NEEDS_CLEARANCE)
        if self.adaptations:
            statuses.add(Status.ADAPTED)
        lifted_reasons = {b.reason for b in lifted} - {b.reason for b in kept}
        return replace(
            self,
            status=max(statuses, key=lambda s: s.severity),
            blockers=kept,
            overridden_blockers=self.overridden_blockers + lifted,
            reasons=tuple(r for r in self.reasons if r not in lifted_reasons),
        )


class _Collector:
    def __init__(self):
        self.statuses = {Status.ALLOWED}
        self.blockers: list[Concern] = []
        self.missing: list[Concern] = []
        self.adaptations: list[Adaptation] = []
        self.areas: list[str] = list(UNIVERSAL_AREAS)
        self.reasons: list[str] = []
        self.notes: list[FindingNote] = []

    def block(self, code: str, name: str, reason: str) -> None:
        self.statuses.add(Status.BLOCKED)
        if any(b.code == code for b in self.blockers):
            return
        self.blockers.append(Concern(code, name, reason))
        self.reasons.append(reason)

    def need(self, code: str, name: str, reason: str) -> None:
        self.statuses.add(Status.NEEDS_CLEARANCE)
        if any(m.code == code for m in self.missing):
            return
        self.missing.append(Concern(code, name, reason))
        self.reasons.append(reason)

    def adapt(self, adaptation: Adaptation) -> None:
        self.statuses.add(Status.ADAPTED)
        # One line per adaptation, however many findings or screenings lead to it.
        if any(a.code == adaptation.code and a.reason == adaptation.reason for a in self.adaptations):
            return
        self.adaptations.append(adaptation)
        self.reasons.append(adaptation.reason)
        for area in adaptation.avoid:
            if area not in self.areas:
                self.areas.append(area)


def screening_is_stale(
    *, taken_on: datetime.date, day: datetime.date, stale_after_days: int, course: CourseFacts | None = None
) -> bool:
    """Too old to massage on `day`? A single session: older than the limit on the day. A course's session:
    the course started on a screening within the limit, and the day is not past the limit by more than
    the course's length (a 10-day course started on an 85-day-old screening runs to its end)."""
    if course is None or course.starts_on > day:
        return (day - taken_on).days > stale_after_days
    return (course.starts_on - taken_on).days > stale_after_days or (
        day - taken_on
    ).days > stale_after_days + course.length_days


def evaluate(
    *,
    facts: ClientFacts,
    massage_type: TypeFacts | None,
    day: datetime.date,
    screening: ScreeningFacts | None,
    clearances: list[ClearanceFacts],
    stale_after_days: int,
    course: CourseFacts | None = None,
) -> Verdict:
    """Judge one client for one massage type (None: any massage) on one day, as a session of `course`
    when given (the staleness of the screening is judged by the course's start).

    The status is the most severe found (BLOCKED > NEEDS_SCREENING >
    NEEDS_CLEARANCE > ADAPTED > ALLOWED); every finding is reported anyway.
    """
    out = _Collector()
    valid = [c for c in clearances if c.is_valid_on(day)]
    covered = {c.covers_contraindication for c in valid if c.covers_contraindication}
    age = facts.age_on(day)

    if massage_type is not None:
        if age < massage_type.min_age:
            out.block(
                "min-age",
                _("below the minimum age for this massage"),
                _("%(age)s years old: below the minimum age for this massage (%(min_age)s).")
                % {"age": age, "min_age": massage_type.min_age},
            )
        needs_referral = massage_type.requires_referral or massage_type.code in ALWAYS_NEEDS_REFERRAL
        if needs_referral and not any(
            c.kind == "referral" and c.covers_massage_type == massage_type.code for c in valid
        ):
            name = _("referral for %(massage_type)s") % {"massage_type": massage_type.name}
            out.need(
                f"referral:{massage_type.code}",
                name,
                _("%(massage_type)s needs a doctor's referral valid on the day.") % {"massage_type": massage_type.name},
            )
    if age < ADULT_AGE and not facts.guardian_consent:
        out.need("guardian-consent", _("guardian consent"), _("A minor: a guardian must consent first."))

    allergens = {a.strip().lower() for a in facts.allergens if a.strip()}
    if screening is None:
        out.statuses.add(Status.NEEDS_SCREENING)
        out.reasons.append(_("No screening on record."))
    else:
        if screening_is_stale(taken_on=screening.taken_on, day=day, stale_after_days=stale_after_days, course=course):
            out.statuses.add(Status.NEEDS_SCREENING)
            params = {"date": day_long(screening.taken_on), "days": stale_after_days}
            if course is not None and (course.starts_on - screening.taken_on).days <= stale_after_days:
                out.reasons.append(
                    _(
                        "The course runs past the %(days)s-day limit of the screening of %(date)s by more than "
                        "its length: a fresh screening is needed before this session."
                    )
                    % params
                )
            else:
                out.reasons.append(_("The latest screening (%(date)s) is older than %(days)s days.") % params)
        for finding in screening.findings:
            rule = rule_for(finding.code, finding.kind, finding.is_day_of)
            taken_on = finding.taken_on or screening.taken_on
            _apply(out, rule, finding, massage_type, day, taken_on, taken_on == day, covered, allergens)
            if finding.note.strip() and not (rule.day_of and taken_on != day):
                out.notes.append(FindingNote(finding.code, finding.name, finding.note.strip()))

    for allergen in sorted(allergens):
        out.adapt(
            Adaptation(
                "product-allergy",
                _("Allergen %(allergen)s is not to be used.") % {"allergen": allergen_label(allergen)},
                allergen=allergen,
            )
        )

    direction = next((a.direction for a in out.adaptations if a.direction), DIRECTION_BOTTOM_UP)
    names = area_names()
    return Verdict(
        status=max(out.statuses, key=lambda s: s.severity),
        blockers=tuple(out.blockers),
        missing_clearances=tuple(out.missing),
        adaptations=tuple(out.adaptations),
        avoid_areas=tuple(Concern(code, names.get(code, code)) for code in out.areas),
        direction=direction,
        reasons=tuple(out.reasons),
        allergens=tuple(sorted(allergens)),
        screening_taken_on=screening.taken_on if screening else None,
        day_of_checked=screening is not None and screening.taken_on == day,
        needs_screening=Status.NEEDS_SCREENING in out.statuses,
        finding_notes=tuple(out.notes),
    )


def _apply(out, rule, finding, massage_type, day, taken_on, same_day, covered, allergens) -> None:
    effect = rule.effect
    # Day-of answers are about the day they were given; acute back pain is the
    # exception below, because therapeutic massage waits for a doctor after it.
    if rule.day_of and not same_day and effect != Effect.ACUTE_BACK:
        return
    if effect == Effect.BLOCK:
        out.block(finding.code, finding.name, _("%(name)s: no massage while present.") % {"name": finding.name})
    elif effect == Effect.ADAPT:
        out.adapt(
            Adaptation(finding.code, str(rule.adaptation) or finding.name, avoid=rule.avoid, direction=rule.direction)
        )
    elif effect == Effect.CLEARANCE:
        if finding.code in covered:
            out.reasons.append(_("%(name)s: a doctor's clearance is valid on the day.") % {"name": finding.name})
        else:
            out.need(
                finding.code,
                finding.name,
                _("%(name)s: needs a doctor's clearance valid on the day.") % {"name": finding.name},
            )
    elif effect == Effect.PREGNANCY:
        weeks = finding.details.get("pregnancy_weeks") if finding.details else None
        if weeks is not None:
            # The pregnancy goes on after the screening: count the weeks since.
            weeks = int(weeks) + max((day - taken_on).days, 0) // 7
        if weeks is None or weeks <= FIRST_TRIMESTER_LAST_WEEK:
            out.block(finding.code, finding.name, _("Pregnancy: no massage in the first trimester."))
        else:
            out.adapt(
                Adaptation(
                    finding.code,
                    _("Pregnancy, week %(weeks)s: sacrum and coccyx avoided.") % {"weeks": weeks},
                    avoid=rule.avoid,
                )
            )
    elif effect == Effect.ACUTE_BACK:
        if massage_type is not None and massage_type.code in NEVER_WHEN_ACUTE and same_day:
            out.block(
                finding.code,
                finding.name,
                _("Acute back pain: no therapeutic massage while the attack lasts."),
            )
        elif finding.code in covered:
            out.reasons.append(_("%(name)s: a doctor's permission is valid on the day.") % {"name": finding.name})
        else:
            out.need(
                finding.code,
                finding.name,
                _("Acute back pain: massage only after the attack has passed, with a doctor's permission."),
            )
    elif effect == Effect.AREA:
        if finding.code not in out.areas:
            out.areas.append(finding.code)
    elif effect == Effect.PRODUCT:
        for allergen in (finding.details or {}).get("allergens", []):
            if str(allergen).strip():
                allergens.add(str(allergen).strip().lower())


# --- Screenings combined ------------------------------------------------------


def _merged(older: FindingFacts, newer: FindingFacts) -> FindingFacts:
    """The newer answer about one contraindication, keeping every allergen either named."""
    allergens = [*(older.details or {}).get("allergens", []), *(newer.details or {}).get("allergens", [])]
    if not allergens:
        return newer
    unique = list(dict.fromkeys(str(a).strip().lower() for a in allergens if str(a).strip()))
    return replace(newer, details={**dict(newer.details or {}), "allergens": unique})


def combine(staff: ScreeningFacts | None, self_reports: list[ScreeningFacts]) -> ScreeningFacts | None:
    """What the rules judge: the latest staff screening, with what the client reported since added on top.

    A self-report may add findings (or update one, e.g. the weeks of a pregnancy), never remove one:
    a finding staff recorded goes only when staff record a screening without it. The date is the
    newest, since the client did answer then. `self_reports` are those taken after `staff`, any order.
    """
    reports = sorted(self_reports, key=lambda r: (r.taken_on, r.pk or 0))
    if staff is None and not reports:
        return None
    findings: dict[str, FindingFacts] = {}
    for screening in ([staff] if staff else []) + reports:
        for finding in screening.findings:
            finding = finding if finding.taken_on else replace(finding, taken_on=screening.taken_on)
            findings[finding.code] = _merged(findings[finding.code], finding) if finding.code in findings else finding
    newest = reports[-1] if reports else staff
    return ScreeningFacts(taken_on=newest.taken_on, findings=tuple(findings.values()), pk=newest.pk)


def with_day_of(
    screening: ScreeningFacts | None, answers: list[FindingFacts], day: datetime.date
) -> ScreeningFacts | None:
    """The screening with the day's answers (asked at check-in) added as findings taken on `day`, so they
    are judged by the same rules as in a screening. Without a screening there is nothing to add to: the
    verdict needs one first."""
    if screening is None:
        return None
    day_of = {f.code: replace(f, taken_on=day) for f in answers}
    kept = tuple(f for f in screening.findings if f.code not in day_of)
    return replace(screening, findings=kept + tuple(day_of.values()))
