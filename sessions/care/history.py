"""The client's history: one chronological list of screenings, courses, sessions with their logs
and addenda, flags and clearances. A fixed number of queries however long the history."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Prefetch, Q

from clients.models import Client
from screening import diff as screening_diff
from screening.models import Clearance, Finding, Screening
from sessions.models import Appointment, Course, Flag, SessionLogAddendum


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
    return History(client=client, entries=entries, courses=courses, course=course)


def _has(appointment: Appointment, name: str) -> bool:
    # A reverse one-to-one loaded by select_related is None-safe only this way.
    try:
        getattr(appointment, name)
    except ObjectDoesNotExist:
        return False
    return True
