"""Flags: what changed for a client since an appointment was booked, raised once per change
and acknowledged by the masseur before the session starts.

`flags_raise_for` is the one entry point; the review page calls it on load and
the Celery scan (issue 6) will call it before each appointment. It is
idempotent: each change has a key, and the unique constraint
treatments_flag_once_per_change holds it under concurrency.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.allergens import allergen_label
from screening import diff as screening_diff
from screening import rules
from screening.models import Clearance
from screening.selectors import screening_in_force, screening_in_force_before, stale_after_days
from sessions.booking import gate
from sessions.localtime import local_date
from sessions.models import Appointment, Flag

# A clearance ending within this many days of the appointment is worth a word.
EXPIRING_WITHIN_DAYS = 7

_SEVERITY_BY_KIND = {
    rules.Kind.ABSOLUTE: Flag.Severity.CRITICAL,
    rules.Kind.RELATIVE: Flag.Severity.WARNING,
    rules.Kind.PRODUCT: Flag.Severity.WARNING,
    rules.Kind.LOCAL: Flag.Severity.INFO,
}


@dataclass(frozen=True)
class Baseline:
    """What the rules judged the appointment on, and what they judge now: each the staff screening in force
    with the self-reports since on top (screening.rules.combine), so a self-report that leaves out what staff
    recorded changes nothing. `pk` is the newest screening's."""

    then: rules.ScreeningFacts | None
    latest: rules.ScreeningFacts | None
    # "previous session" or "booking": what `then` was in force at.
    since: str
    since_at: datetime.datetime

    @property
    def diff(self) -> screening_diff.ScreeningDiff:
        return screening_diff.compare(self.then, self.latest)

    @property
    def same(self) -> bool:
        return (self.then and self.then.pk) == (self.latest and self.latest.pk)


def baseline_for(*, appointment: Appointment) -> Baseline:
    """The screening in force at the client's previous completed session (at booking when there was none),
    and the one in force by the end of the appointment's day. Five queries."""
    previous = (
        Appointment.objects.filter(
            client_id=appointment.client_id,
            status=Appointment.Status.COMPLETED,
            starts_at__lt=appointment.starts_at,
        )
        .exclude(pk=appointment.pk)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    since, since_at = ("previous session", previous) if previous else ("booking", appointment.booked_at)
    return Baseline(
        then=screening_in_force_before(client_id=appointment.client_id, instant=since_at),
        latest=screening_in_force(client=appointment.client, day=local_date(appointment.starts_at)),
        since=since,
        since_at=since_at,
    )


def _finding_text(finding: rules.FindingFacts) -> str:
    text = finding.name
    if finding.note:
        text += f" ({finding.note})"
    allergens = (finding.details or {}).get("allergens")
    if allergens:
        text += ": " + ", ".join(allergen_label(a) for a in allergens)
    return text


# The appointment's course facts not given: read them (gate.facts_of_course).
_READ = object()


def _changes(*, appointment: Appointment, baseline: Baseline, clearances: list[Clearance], course=_READ) -> list[dict]:
    """Every change worth a flag, as Flag field values; pure apart from the arguments (and the course's
    facts, read unless given)."""
    found: list[dict] = []
    latest = baseline.latest
    if latest is not None and not baseline.same:
        change = baseline.diff
        at = f"@{latest.pk}"
        for finding in change.added:
            found.append(
                {
                    "kind": Flag.Kind.ADDED,
                    "severity": _SEVERITY_BY_KIND.get(rules.Kind(finding.kind), Flag.Severity.WARNING),
                    "what_changed": _("New in the screening: %(finding)s.") % {"finding": _finding_text(finding)},
                    "change_key": f"added:{finding.code}{at}",
                }
            )
        for finding in change.removed:
            found.append(
                {
                    "kind": Flag.Kind.REMOVED,
                    "severity": Flag.Severity.INFO,
                    "what_changed": _("No longer in the screening: %(finding)s.") % {"finding": _finding_text(finding)},
                    "change_key": f"removed:{finding.code}{at}",
                }
            )
        for old, new in change.changed:
            found.append(
                {
                    "kind": Flag.Kind.CHANGED,
                    "severity": Flag.Severity.WARNING,
                    "what_changed": _("Changed in the screening: %(old)s → %(new)s.")
                    % {"old": _finding_text(old), "new": _finding_text(new)},
                    "change_key": f"changed:{new.code}{at}",
                }
            )
        if change.kind_worsened:
            found.append(
                {
                    "kind": Flag.Kind.KIND_WORSENED,
                    "severity": Flag.Severity.CRITICAL,
                    "what_changed": _("The screening now has a more serious kind of contraindication."),
                    "change_key": f"worsened{at}",
                }
            )

    day = local_date(appointment.starts_at)
    if course is _READ:
        course = gate.facts_of_course(appointment.course) if appointment.course_id else None
    taken_on = latest.taken_on if latest is not None else None
    if taken_on is not None and rules.screening_is_stale(
        taken_on=taken_on, day=day, stale_after_days=stale_after_days(), course=course
    ):
        params = {"date": taken_on.isoformat(), "days": stale_after_days()}
        found.append(
            {
                "kind": Flag.Kind.SCREENING_STALE,
                "severity": Flag.Severity.WARNING,
                "what_changed": (
                    _(
                        "The course has run past the %(days)s-day limit of the screening of %(date)s by more than "
                        "its length: take a fresh screening with the client before this session."
                    )
                    if course is not None and (course.starts_on - taken_on).days <= stale_after_days()
                    else _("The latest screening (%(date)s) is older than %(days)s days.")
                )
                % params,
                "change_key": f"stale@{latest.pk}",
            }
        )

    booked_on = timezone.localdate(baseline.since_at)
    for clearance in clearances:
        params = {"clearance": str(clearance), "date": clearance.valid_until.isoformat()}
        if clearance.valid_until < day and clearance.valid_until >= booked_on:
            found.append(
                {
                    "kind": Flag.Kind.CLEARANCE_EXPIRED,
                    "severity": Flag.Severity.CRITICAL,
                    "what_changed": _("The clearance %(clearance)s expired on %(date)s.") % params,
                    "change_key": f"clearance-expired:{clearance.pk}",
                }
            )
        elif clearance.issued_on <= day <= clearance.valid_until < day + datetime.timedelta(EXPIRING_WITHIN_DAYS):
            found.append(
                {
                    "kind": Flag.Kind.CLEARANCE_EXPIRING,
                    "severity": Flag.Severity.INFO,
                    "what_changed": _("The clearance %(clearance)s ends on %(date)s.") % params,
                    "change_key": f"clearance-expiring:{clearance.pk}",
                }
            )
    return found


def _relevant_clearances(*, appointment: Appointment, baseline: Baseline) -> list[Clearance]:
    """Clearances covering this massage type or a finding of the screenings, that ended after the baseline."""
    codes = {f.code for s in (baseline.then, baseline.latest) if s for f in s.findings}
    return list(
        Clearance.objects.filter(
            Q(covers_massage_type_id=appointment.massage_type_id) | Q(covers_contraindication__code__in=codes),
            client_id=appointment.client_id,
            valid_until__gte=timezone.localdate(baseline.since_at),
        ).order_by("valid_until", "pk")
    )


def flags_raise_for(*, appointment: Appointment) -> list[Flag]:
    """Raise a flag for each change since the appointment's baseline; each change once, however often called.
    Returns the flags of these changes (new and already raised)."""
    baseline = baseline_for(appointment=appointment)
    changes = _changes(
        appointment=appointment,
        baseline=baseline,
        clearances=_relevant_clearances(appointment=appointment, baseline=baseline),
    )
    flags = []
    for change in changes:
        # get_or_create retries the get when a concurrent insert wins the unique key.
        flag, _created = Flag.objects.get_or_create(
            appointment=appointment,
            change_key=change.pop("change_key"),
            defaults=change,
        )
        flags.append(flag)
    return flags


def flag_acknowledge(*, flag: Flag, by) -> Flag:
    """Record who acknowledged the flag and when; the first acknowledgement stands."""
    with transaction.atomic():
        # A conditional UPDATE: two clicks at once record one acknowledgement.
        Flag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=by, acknowledged_at=timezone.now()
        )
    flag.refresh_from_db()
    return flag


def open_flags(*, appointment: Appointment) -> list[Flag]:
    """Flags of the appointment not yet acknowledged, oldest first. One query."""
    return list(appointment.flags.filter(acknowledged_at__isnull=True).order_by("raised_at", "pk"))


def flags_of(*, appointment: Appointment) -> list[Flag]:
    """All flags of the appointment with who acknowledged them. One query."""
    return list(appointment.flags.select_related("acknowledged_by").order_by("raised_at", "pk"))


def require_no_open_flags(*, appointment: Appointment) -> None:
    count = appointment.flags.filter(acknowledged_at__isnull=True).count()
    if count:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _("Acknowledge every flag before the session starts (open flags: %(count)s).")
                % {"count": count}
            }
        )
