"""The client's page as the front desk's hub: bookings, courses, flags, holds and emails of one client,
with what can be done from there. A panel of clients.panels (registered in sessions.booking.panels).

Need-to-know: the schedule, statuses and counts are for everyone who may open the client's page; what a
flag says changed and the findings behind a hold only for those who may see the client's health record
(the template gets `can_view_health`, and the panel writes the access trail when it shows them).

A fixed number of queries whatever the client's history: see client_card."""

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.utils import timezone

from clients.models import Client
from sessions.booking.calendar import _course_number
from sessions.models import Appointment, Course, Reminder

PAST_PAGE_SIZE = 10
REMINDERS_SHOWN = 10


@dataclass
class CourseLine:
    """A course with how far it got: "4 of 10 done"."""

    course: Course
    completed: int
    booked: int  # live sessions: completed, checked in or upcoming

    @property
    def finished(self) -> bool:
        return self.course.status in (Course.Status.COMPLETED, Course.Status.CANCELLED)


@dataclass
class ClientCard:
    upcoming: list[Appointment]
    courses: list[CourseLine]
    past: Page
    no_shows: int
    cancellations: int
    open_flags: list = field(default_factory=list)  # sessions.models.Flag, with their appointment
    holds: list = field(default_factory=list)  # the open sessions.models.Hold of the client's appointments
    reminders: list[Reminder] = field(default_factory=list)


def client_card(*, client: Client, past_page: str | int | None = 1, now: datetime.datetime | None = None) -> ClientCard:
    """The client's bookings as the hub shows them: upcoming appointments (with their course number), courses
    with progress, one page of past appointments, the no-show and cancellation counts, the open flags and holds
    of what is upcoming, and the latest emails. Eight queries at most, whatever the history."""
    now = now or timezone.now()
    related = ("masseur", "room", "massage_type", "course")
    upcoming_q = Q(status__in=Appointment.UPCOMING + (Appointment.Status.CHECKED_IN,), starts_at__gte=now) | Q(
        status=Appointment.Status.CHECKED_IN
    )
    # 1. Upcoming, with "session 4 of 10".
    upcoming = list(
        Appointment.objects.filter(upcoming_q, client=client)
        .select_related(*related)
        .annotate(course_number=_course_number())
        .order_by("starts_at", "pk")
    )
    # 2-3. Past (or no longer upcoming), newest first, a page at a time (a count and the page).
    past = Paginator(
        Appointment.objects.filter(client=client)
        .exclude(upcoming_q)
        .select_related(*related)
        .order_by("-starts_at", "-pk"),
        PAST_PAGE_SIZE,
    ).get_page(past_page)
    # 4. Courses with their progress.
    live = ~Q(appointments__status__in=Appointment.NOT_LIVE)
    courses = [
        CourseLine(course, course.completed, course.booked)
        for course in Course.objects.filter(client=client)
        .annotate(
            completed=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED)),
            booked=Count("appointments", filter=live),
        )
        .select_related("massage_type", "preferred_masseur")
        .order_by("-created_at", "-pk")
    ]
    # 5. How often they did not come, or cancelled.
    counts = Appointment.objects.filter(client=client).aggregate(
        no_shows=Count("pk", filter=Q(status=Appointment.Status.NO_SHOW)),
        cancellations=Count("pk", filter=Q(status=Appointment.Status.CANCELLED)),
    )
    upcoming_ids = [a.pk for a in upcoming]
    # 6-7. Open flags and holds of what is upcoming.
    flag_model = apps.get_model("treatments", "Flag")
    hold_model = apps.get_model("treatments", "Hold")
    open_flags = (
        list(
            flag_model.objects.filter(appointment_id__in=upcoming_ids, acknowledged_at__isnull=True)
            .select_related("appointment")
            .order_by("appointment__starts_at", "raised_at", "pk")
        )
        if upcoming_ids
        else []
    )
    holds = (
        list(
            hold_model.objects.filter(appointment_id__in=upcoming_ids, released_at__isnull=True)
            .select_related("appointment", "held_by")
            .order_by("appointment__starts_at", "pk")
        )
        if upcoming_ids
        else []
    )
    # 8. The latest emails, newest first.
    reminders = list(Reminder.objects.filter(client=client).order_by("-due_at", "-pk")[:REMINDERS_SHOWN])
    return ClientCard(
        upcoming=upcoming,
        courses=courses,
        past=past,
        no_shows=counts["no_shows"],
        cancellations=counts["cancellations"],
        open_flags=open_flags,
        holds=holds,
        reminders=reminders,
    )
