"""The gate: may this appointment go ahead? The screening's verdict for its client, massage type and day
(as a session of its course), with the blocks a manager's written overrides cover lifted, and nothing
else: a later, different block stops it again until a new override.

Booking, moving, the client's confirmation, the release of a hold or of a session awaiting clearance,
the check-in and the flag scan all ask here, so every path judges the same way."""

import datetime
import math
from collections.abc import Iterable

from django.db.models import Min

from screening import rules
from sessions.localtime import local_date
from sessions.models import Appointment, Course, Override

# Days between two sessions of a course, by cadence (chosen weekdays: see course_length_days).
_STEP_DAYS = {Course.Cadence.DAILY: 1, Course.Cadence.EVERY_OTHER_DAY: 2}


def course_length_days(*, planned_sessions: int, cadence: str, weekdays: Iterable[int] = ()) -> int:
    """How many days a course takes as planned: 10 daily sessions 10 days, every other day 20, on two
    chosen weekdays 35 (five weeks)."""
    if cadence == Course.Cadence.WEEKDAYS:
        per_week = max(len(set(weekdays)), 1)
        return math.ceil(planned_sessions / per_week) * 7
    return planned_sessions * _STEP_DAYS.get(cadence, 1)


def course_facts(course: Course, *, starts_on: datetime.date) -> rules.CourseFacts:
    return rules.CourseFacts(
        starts_on=starts_on,
        length_days=course_length_days(
            planned_sessions=course.planned_sessions, cadence=course.cadence, weekdays=course.weekdays
        ),
    )


def course_starts(course_ids: Iterable[int]) -> dict[int, datetime.date]:
    """The local date of each course's first live session. One query."""
    ids = set(course_ids)
    if not ids:
        return {}
    rows = (
        Appointment.objects.filter(course_id__in=ids)
        .exclude(status__in=Appointment.NOT_LIVE)
        .values("course_id")
        .annotate(first=Min("starts_at"))
        .values_list("course_id", "first")
    )
    return {course_id: local_date(first) for course_id, first in rows}


def facts_of_course(course: Course | None, *, also: datetime.datetime | None = None) -> rules.CourseFacts | None:
    """The course facts of a session of `course` (None: not a course), starting with its first live session
    or `also` (a session being booked), whichever is earlier. One query."""
    if course is None:
        return None
    first = course_starts([course.pk]).get(course.pk)
    days = [d for d in (first, local_date(also) if also else None) if d is not None]
    return course_facts(course, starts_on=min(days)) if days else None


def covered_codes(appointment: Appointment) -> frozenset[str]:
    """The blocker codes the appointment's overrides cover. One query."""
    codes: set[str] = set()
    for covers in Override.objects.filter(appointment_id=appointment.pk).values_list("covers", flat=True):
        codes.update(covers)
    return frozenset(codes)


def raw_verdict(
    appointment: Appointment, *, day_of: list[rules.FindingFacts] | None = None, course: rules.CourseFacts | None = None
) -> rules.Verdict:
    """The screening's verdict for the appointment, overrides not applied. Four queries at most."""
    from screening.selectors import verdict_for

    if course is None and appointment.course_id:
        course = facts_of_course(appointment.course)
    return verdict_for(
        client=appointment.client,
        massage_type=appointment.massage_type,
        day=local_date(appointment.starts_at),
        course=course,
        day_of=day_of,
    )


def appointment_gate(appointment: Appointment, *, day_of: list[rules.FindingFacts] | None = None) -> rules.Verdict:
    """The verdict the appointment goes ahead on: the screening's, with the blocks its overrides cover
    lifted (`is_bookable` says whether it may). Five queries at most."""
    return raw_verdict(appointment, day_of=day_of).overridden(covered_codes(appointment))


def override_record(*, appointment: Appointment, verdict: rules.Verdict, reason: str, by) -> Override:
    """Write a manager's override of the blocks in `verdict` (the raw one: every block present now)."""
    override = Override(
        appointment=appointment,
        covers=[b.code for b in getattr(verdict, "blockers", ())],
        covers_names=[str(b.name) for b in getattr(verdict, "blockers", ())],
        reason=reason.strip(),
        by=by,
    )
    override.full_clean(exclude=["appointment"])
    override.save()
    return override
