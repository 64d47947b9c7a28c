"""The client's history: one chronological list of screenings, courses, sessions with their logs
and addenda, flags and clearances. A fixed number of queries however long the history."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Min, Prefetch, Q

from clients.models import Client
from screening import diff as screening_diff
from screening.models import Clearance, Finding, Screening
from sessions.care import review
from sessions.models import Appointment, Course, Flag, SessionLog, SessionLogAddendum


@dataclass
class Entry:
    at: datetime.datetime
    kind: str  # "screening", "clearance", "course", "session"
    obj: object
    extra: dict = field(default_factory=dict)


@dataclass
class History:
    client: Client
    entries: list[Entry]
    courses: list[Course]
    course: Course | None
    # Pain before and after per signed session: the course's, by session number, or all, by date.
    chart: review.PainChart | None = None


def _start_of(day: datetime.date) -> datetime.datetime:
    from sessions.localtime import kyiv

    return datetime.datetime.combine(day, datetime.time.min, tzinfo=kyiv())


def client_history(*, client: Client, course_id: int | None = None) -> History:
    """Everything on the client's record, oldest first; with a course, only that course and its sessions
    (screenings and clearances stay: they are the client's, not the course's). Eight queries."""
    courses = list(
        Course.objects.filter(client=client)
        .select_related("massage_type")
        .annotate(
            completed=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED)),
            # The course filter names a course by its massage type and first session.
            first_session=Min("appointments__starts_at"),
        )
        .order_by("created_at", "pk")
    )
    course = next((c for c in courses if c.pk == course_id), None)
    screenings = list(
        Screening.objects.filter(client=client)
        .select_related("taken_by")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.select_related("contraindication")))
        .order_by("taken_at", "pk")
    )
    clearances = list(
        Clearance.objects.filter(client=client)
        .select_related("covers_contraindication", "covers_massage_type", "created_by")
        .order_by("issued_on", "pk")
    )
    appointments = Appointment.objects.filter(client=client)
    if course is not None:
        appointments = appointments.filter(course=course)
    appointments = list(
        appointments.select_related(
            "massage_type", "masseur", "room", "session_log", "session_log__signed_by", "day_of_check"
        )
        .prefetch_related(
            Prefetch("flags", queryset=Flag.objects.select_related("acknowledged_by").order_by("raised_at", "pk")),
            Prefetch(
                "session_log__addenda",
                queryset=SessionLogAddendum.objects.select_related("author").order_by("created_at", "pk"),
            ),
        )
        .order_by("starts_at", "pk")
    )

    entries: list[Entry] = []
    previous = None
    for screening in screenings:
        entries.append(
            Entry(screening.taken_at, "screening", screening, {"diff": screening_diff.compare(previous, screening)})
        )
        previous = screening
    entries.extend(Entry(_start_of(c.issued_on), "clearance", c) for c in clearances)
    entries.extend(Entry(c.created_at, "course", c) for c in courses if course is None or c.pk == course.pk)
    for appointment in appointments:
        log = appointment.session_log if _has(appointment, "session_log") else None
        entries.append(
            Entry(
                appointment.starts_at,
                "session",
                appointment,
                {
                    "log": log,
                    "check": appointment.day_of_check if _has(appointment, "day_of_check") else None,
                    "flags": list(appointment.flags.all()),
                },
            )
        )
    entries.sort(key=lambda e: e.at)
    return History(
        client=client, entries=entries, courses=courses, course=course, chart=_pain_chart(appointments, course)
    )


def _pain_chart(appointments: list[Appointment], course: Course | None) -> review.PainChart | None:
    """From the appointments already loaded: no query of its own."""
    signed = [a for a in appointments if _has(a, "session_log") and a.session_log.status == SessionLog.Status.SIGNED]
    if course is None:
        return review.pain_chart(
            review.date_samples([(a.starts_at, a.session_log.pain_before, a.session_log.pain_after) for a in signed]),
            by_session_number=False,
        )
    live = [a.pk for a in appointments if a.status not in Appointment.NOT_LIVE]
    numbers = {pk: number for number, pk in enumerate(live, start=1)}
    rows = [(a.pk, a.starts_at, a.session_log.pain_before, a.session_log.pain_after) for a in signed]
    return review.pain_chart(review.course_samples(rows, numbers))


def _has(appointment: Appointment, name: str) -> bool:
    # A reverse one-to-one loaded by select_related is None-safe only this way.
    try:
        getattr(appointment, name)
    except ObjectDoesNotExist:
        return False
    return True
