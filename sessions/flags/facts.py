"""What the flag scan judges, read for many appointments at once: their clients' screenings (id, time and
source; never the answers), the findings of those screenings, clearances, overrides and courses' starts,
each in one query. Then the same rules as for one appointment (sessions.flags.services and
sessions.booking.gate, which the review page and the booking use) run per appointment in Python.

The screening in force is chosen as screening.selectors.facts_in_force chooses it: the newest staff
screening taken before a moment, with the self-reports taken after it on top (rules.combine).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from screening import rules
from screening.models import Clearance, Screening
from screening.selectors import (
    clearance_facts,
    client_facts,
    finding_facts_by_screening,
    stale_after_days,
    type_facts,
)
from sessions.booking import gate
from sessions.flags.services import Baseline
from sessions.localtime import local_date
from sessions.models import Appointment, Override


def with_previous_session(queryset):
    """Each appointment with `previous_at`: the start of its client's latest completed session before it
    (the baseline the flags compare with). A subquery, so still one query."""
    previous = (
        Appointment.objects.filter(
            client_id=OuterRef("client_id"),
            status=Appointment.Status.COMPLETED,
            starts_at__lt=OuterRef("starts_at"),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("-starts_at")
        .values("starts_at")[:1]
    )
    return queryset.annotate(previous_at=Subquery(previous))


@dataclass(frozen=True)
class _Screening:
    pk: int
    taken_at: datetime.datetime
    source: str
    facts: rules.ScreeningFacts


def _end_of(day: datetime.date) -> datetime.datetime:
    # screening.selectors._end_of: the first instant after `day` in the parlor's time zone.
    tz = timezone.get_current_timezone()
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def in_force(screenings: list[_Screening], before: datetime.datetime | None) -> rules.ScreeningFacts | None:
    """The facts in force just before `before` from one client's screenings (screening.selectors
    .facts_in_force on those taken before it). Pure."""
    if before is None:
        return None
    taken = sorted((s for s in screenings if s.taken_at < before), key=lambda s: (s.taken_at, s.pk), reverse=True)
    staff = next((s for s in taken if s.source == Screening.Source.STAFF), None)
    reports = [
        s.facts
        for s in taken
        if s.source != Screening.Source.STAFF and (staff is None or (s.taken_at, s.pk) > (staff.taken_at, staff.pk))
    ]
    return rules.combine(staff.facts if staff else None, reports)


@dataclass
class ScanFacts:
    screenings: dict[int, list[_Screening]] = field(default_factory=dict)
    clearances: dict[int, list[Clearance]] = field(default_factory=dict)
    overrides: dict[int, frozenset[str]] = field(default_factory=dict)
    course_starts: dict[int, datetime.date] = field(default_factory=dict)

    @classmethod
    def load(cls, appointments: list[Appointment]) -> "ScanFacts":
        """Four queries (five with courses), whatever the number of appointments."""
        if not appointments:
            return cls()
        client_ids = {a.client_id for a in appointments}
        return cls(
            screenings=_screenings(client_ids),
            clearances=_clearances(client_ids),
            overrides=_overrides([a.pk for a in appointments]),
            course_starts=gate.course_starts({a.course_id for a in appointments if a.course_id}),
        )

    def baseline(self, appointment: Appointment) -> Baseline:
        """sessions.flags.services.baseline_for, from what was loaded; needs `previous_at`."""
        previous = appointment.previous_at
        since, since_at = ("previous session", previous) if previous else ("booking", appointment.booked_at)
        screenings = self.screenings.get(appointment.client_id, [])
        return Baseline(
            then=in_force(screenings, since_at),
            latest=in_force(screenings, _end_of(local_date(appointment.starts_at))),
            since=since,
            since_at=since_at,
        )

    def course(self, appointment: Appointment) -> rules.CourseFacts | None:
        """gate.facts_of_course for the appointment's course."""
        if not appointment.course_id:
            return None
        first = self.course_starts.get(appointment.course_id)
        return gate.course_facts(appointment.course, starts_on=first) if first else None

    def relevant_clearances(self, appointment: Appointment, baseline: Baseline) -> list[Clearance]:
        """sessions.flags.services._relevant_clearances, from what was loaded."""
        codes = {f.code for s in (baseline.then, baseline.latest) if s for f in s.findings}
        since = timezone.localdate(baseline.since_at)
        found = [
            c
            for c in self.clearances.get(appointment.client_id, [])
            if c.valid_until >= since
            and (
                c.covers_massage_type_id == appointment.massage_type_id
                or (c.covers_contraindication is not None and c.covers_contraindication.code in codes)
            )
        ]
        return sorted(found, key=lambda c: (c.valid_until, c.pk))

    def verdict(self, appointment: Appointment, *, latest: rules.ScreeningFacts | None) -> rules.Verdict:
        """gate.appointment_gate from what was loaded: the screening's verdict on the appointment's day (as a
        session of its course), its overrides' blocks lifted. `latest`: the baseline's, in force that day."""
        day = local_date(appointment.starts_at)
        valid = [
            clearance_facts(c)
            for c in self.clearances.get(appointment.client_id, [])
            if c.issued_on <= day <= c.valid_until
        ]
        verdict = rules.evaluate(
            facts=client_facts(appointment.client),
            massage_type=type_facts(appointment.massage_type),
            day=day,
            screening=latest,
            clearances=valid,
            stale_after_days=stale_after_days(),
            course=self.course(appointment),
        )
        return verdict.overridden(self.overrides.get(appointment.pk, frozenset()))


def _screenings(client_ids) -> dict[int, list[_Screening]]:
    rows = list(Screening.objects.filter(client_id__in=client_ids).values_list("pk", "client_id", "taken_at", "source"))
    findings = finding_facts_by_screening(row[0] for row in rows)
    by_client: dict[int, list[_Screening]] = defaultdict(list)
    for pk, client_id, taken_at, source in rows:
        facts = rules.ScreeningFacts(taken_on=timezone.localdate(taken_at), findings=findings.get(pk, ()), pk=pk)
        by_client[client_id].append(_Screening(pk=pk, taken_at=taken_at, source=source, facts=facts))
    return by_client


def _clearances(client_ids) -> dict[int, list[Clearance]]:
    by_client: dict[int, list[Clearance]] = defaultdict(list)
    for clearance in Clearance.objects.filter(client_id__in=client_ids).select_related(
        "covers_contraindication", "covers_massage_type"
    ):
        by_client[clearance.client_id].append(clearance)
    return by_client


def _overrides(appointment_ids) -> dict[int, frozenset[str]]:
    codes: dict[int, set[str]] = defaultdict(set)
    for appointment_id, covers in Override.objects.filter(appointment_id__in=appointment_ids).values_list(
        "appointment_id", "covers"
    ):
        codes[appointment_id].update(covers)
    return {pk: frozenset(c) for pk, c in codes.items()}
