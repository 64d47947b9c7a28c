"""Reads about courses and appointments."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from parlor import closures
from parlor.formats import day_long
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours
from sessions.booking.availability import working_intervals
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Course

MAX_GAP_DAYS = 2
# Who may book on a day the parlor is closed (parlor.ClosedDay): the manager.
BOOK_ON_CLOSED_DAY = "parlor.book_on_closed_day"


def appointment_conflicts(
    *,
    client: Client,
    massage_type: MassageType,
    masseur: Masseur,
    room: Room,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
    exclude_pk: int | None = None,
    may_book_closed: bool = False,
) -> dict[str, list[str]]:
    """Why this booking cannot happen, by field; empty when it can. Five queries. A day the parlor is
    closed refuses unless `may_book_closed` (the manager).

    The friendly side of the exclusion constraints: the constraint remains the
    guarantee when two bookings race.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if timezone.is_naive(starts_at):
        add("starts_at", _("The start needs a time zone."))
        return errors
    ends_at = starts_at + datetime.timedelta(minutes=massage_type.duration_minutes)
    blocks_until = ends_at + datetime.timedelta(minutes=massage_type.buffer_minutes)
    names = {"masseur": masseur.display_name, "room": room.name, "type": massage_type.name}

    if starts_at < (now or timezone.now()):
        add("starts_at", _("This time has already passed."))
    if not masseur.is_active:
        add("masseur", _("%(masseur)s no longer works here.") % names)
    if not masseur.qualifications.filter(pk=massage_type.pk).exists():
        add("masseur", _("%(masseur)s is not qualified for %(type)s.") % names)
    if not room.is_active:
        add("room", _("%(room)s is not in use.") % names)

    day = local_date(starts_at)
    if not may_book_closed and (closed := closures.closed_on(day)) is not None:
        add("starts_at", closed_day_message(closed))
    hours = WorkingHours.objects.filter(masseur=masseur, weekday=day.weekday()).values_list("starts", "ends")
    if not any(lo <= starts_at and ends_at <= hi for lo, hi in working_intervals(day, list(hours), kyiv())):
        add("starts_at", _("%(masseur)s does not work at this time.") % names)
    if TimeOff.objects.filter(masseur=masseur, starts_at__lt=blocks_until, ends_at__gt=starts_at).exists():
        add("masseur", _("%(masseur)s is off at this time.") % names)

    # One query for the three kinds of clash.
    clashes = (
        Appointment.objects.filter(Q(masseur=masseur) | Q(room=room) | Q(client=client))
        .filter(starts_at__lt=blocks_until, blocks_until__gt=starts_at)
        .exclude(status__in=Appointment.NOT_LIVE)
        .exclude(pk=exclude_pk)
        .values_list("masseur_id", "room_id", "client_id")
    )
    masseur_busy = room_busy = client_busy = False
    for masseur_id, room_id, client_id in clashes:
        masseur_busy |= masseur_id == masseur.pk
        room_busy |= room_id == room.pk
        client_busy |= client_id == client.pk
    if masseur_busy:
        add("masseur", masseur_busy_message(masseur))
    if room_busy:
        add("room", room_busy_message(room))
    if client_busy:
        add("client", client_busy_message())
    return errors


def closed_day_message(closed) -> str:
    """Why a closed day refuses a booking, with the day and why it is closed."""
    reason = closures.closed_reason(closed)
    params = {"day": day_long(closed.day), "reason": f" ({reason})" if reason else ""}
    return _("The parlor is closed on %(day)s%(reason)s; only a manager may book on a closed day.") % params


def masseur_busy_message(masseur: Masseur) -> str:
    return _("%(masseur)s already has an appointment at this time.") % {"masseur": masseur.display_name}


def room_busy_message(room: Room) -> str:
    return _("%(room)s is taken at this time.") % {"room": room.name}


def client_busy_message() -> str:
    return _("The client already has an appointment at this time.")


def gap_warning(days: int) -> str:
    return _("%(days)s days since the previous session: a course works best with gaps of at most 2 days.") % {
        "days": days
    }


def course_gap_warnings(*, course: Course, starts_at: datetime.datetime, exclude_pk: int | None = None) -> list[str]:
    """Warnings when a session of the course at starts_at leaves a gap over 2 days before or after it."""
    days = sorted(
        local_date(other)
        for other in course.appointments.exclude(status__in=Appointment.NOT_LIVE)
        .exclude(pk=exclude_pk)
        .values_list("starts_at", flat=True)
    )
    day = local_date(starts_at)
    before = [d for d in days if d <= day]
    after = [d for d in days if d > day]
    warnings = []
    if before and (day - before[-1]).days > MAX_GAP_DAYS:
        warnings.append(gap_warning((day - before[-1]).days))
    if after and (after[0] - day).days > MAX_GAP_DAYS:
        warnings.append(gap_warning((after[0] - day).days))
    return warnings


@dataclass(frozen=True)
class CourseProgress:
    planned: int
    completed: int
    upcoming: int
    missed: int

    @property
    def remaining(self) -> int:
        return max(self.planned - self.completed, 0)


def course_progress(*, course: Course) -> CourseProgress:
    """How far a course has got: one query."""
    counts = course.appointments.aggregate(
        completed=Count("pk", filter=Q(status=Appointment.Status.COMPLETED)),
        upcoming=Count("pk", filter=Q(status__in=Appointment.UPCOMING + (Appointment.Status.CHECKED_IN,))),
        missed=Count("pk", filter=Q(status=Appointment.Status.NO_SHOW)),
    )
    return CourseProgress(planned=course.planned_sessions, **counts)


def appointments_on(*, day: datetime.date) -> list[Appointment]:
    """The day view: live appointments starting on a local day, with everything a row shows. One query."""
    tz = kyiv()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return list(
        Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client", "masseur", "room", "massage_type")
        .order_by("starts_at", "masseur__display_name")
    )


def appointments_of_client(*, client: Client) -> list[Appointment]:
    """A client's appointments, newest first. One query."""
    return list(
        Appointment.objects.filter(client=client)
        .select_related("masseur", "room", "massage_type")
        .order_by("-starts_at")
    )
