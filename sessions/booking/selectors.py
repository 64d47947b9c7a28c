"""Reads about courses and appointments."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from parlor import closures
from parlor.formats import day_long
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours
from sessions.booking.availability import MAX_BLOCK, working_intervals
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Course

MAX_GAP_DAYS = 2
# Who may book on a day the parlor is closed (parlor.ClosedDay): the manager.
BOOK_ON_CLOSED_DAY = "parlor.book_on_closed_day"


class SessionToCheck(NamedTuple):
    starts_at: datetime.datetime
    masseur: Masseur
    room: Room


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
    """Why this booking cannot happen, by field; empty when it can. Three queries (two with
    `may_book_closed`). A day the parlor is closed refuses unless `may_book_closed` (the manager).

    The friendly side of the exclusion constraints: the constraint remains the
    guarantee when two bookings race (and sessions.booking.locks makes racers queue for this check).
    """
    (errors,) = sessions_conflicts(
        client=client,
        massage_type=massage_type,
        sessions=[SessionToCheck(starts_at, masseur, room)],
        now=now,
        exclude_pk=exclude_pk,
        may_book_closed=may_book_closed,
    )
    return errors


@dataclass
class _MasseurFacts:
    qualified: bool
    # weekday -> [(starts, ends)]
    hours: dict[int, list[tuple[datetime.time, datetime.time]]]
    off: list[tuple[datetime.datetime, datetime.datetime]]


def _masseur_facts(
    masseur_ids: set[int],
    *,
    massage_type: MassageType,
    weekdays: set[int],
    lo: datetime.datetime,
    hi: datetime.datetime,
) -> dict[int, _MasseurFacts]:
    """Qualification, working hours on the weekdays and time off within [lo, hi) of each masseur: one query."""
    hours = WorkingHours.objects.filter(masseur_id=OuterRef("pk"), weekday__in=weekdays).order_by("pk")
    off = TimeOff.objects.filter(masseur_id=OuterRef("pk"), starts_at__lt=hi, ends_at__gt=lo).order_by("pk")
    qualified = Masseur.qualifications.through.objects.filter(masseur_id=OuterRef("pk"), massagetype_id=massage_type.pk)
    rows = (
        Masseur.objects.filter(pk__in=masseur_ids)
        .annotate(
            is_qualified=Exists(qualified),
            hour_days=ArraySubquery(hours.values("weekday")),
            hour_starts=ArraySubquery(hours.values("starts")),
            hour_ends=ArraySubquery(hours.values("ends")),
            off_starts=ArraySubquery(off.values("starts_at")),
            off_ends=ArraySubquery(off.values("ends_at")),
        )
        .values_list("pk", "is_qualified", "hour_days", "hour_starts", "hour_ends", "off_starts", "off_ends")
    )
    facts = {}
    for pk, is_qualified, days, starts, ends, off_starts, off_ends in rows:
        by_day: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
        for weekday, start, end in zip(days, starts, ends, strict=True):
            by_day.setdefault(weekday, []).append((start, end))
        facts[pk] = _MasseurFacts(is_qualified, by_day, list(zip(off_starts, off_ends, strict=True)))
    return facts


def sessions_conflicts(
    *,
    client: Client,
    massage_type: MassageType,
    sessions: Sequence[SessionToCheck],
    now: datetime.datetime | None = None,
    exclude_pk: int | None = None,
    may_book_closed: bool = False,
) -> list[dict[str, list[str]]]:
    """appointment_conflicts of each session (in order), also clashing with the sessions before it in the
    list (none is booked yet), in three queries whatever their number: the masseurs' qualifications, hours
    and time off; the closed days (none with `may_book_closed`); every live appointment that could clash."""
    now = now or timezone.now()
    duration = datetime.timedelta(minutes=massage_type.duration_minutes)
    buffer = datetime.timedelta(minutes=massage_type.buffer_minutes)
    aware = [s for s in sessions if not timezone.is_naive(s.starts_at)]
    facts: dict[int, _MasseurFacts] = {}
    closed: dict = {}
    booked: list[tuple[int, int, int, datetime.datetime, datetime.datetime]] = []
    if aware:
        lo = min(s.starts_at for s in aware)
        hi = max(s.starts_at for s in aware) + duration + buffer
        days = {local_date(s.starts_at) for s in aware}
        facts = _masseur_facts(
            {s.masseur.pk for s in aware},
            massage_type=massage_type,
            weekdays={day.weekday() for day in days},
            lo=lo,
            hi=hi,
        )
        if not may_book_closed:
            closed = closures.closed_days(min(days), max(days))
        # A live appointment lasts at most MAX_BLOCK, so bounding its start lets the starts_at
        # index serve this instead of reading every appointment the masseur, room or client ever had.
        reach = Q()
        for s in aware:
            reach |= Q(starts_at__gte=s.starts_at - MAX_BLOCK, starts_at__lt=s.starts_at + duration + buffer)
        booked = list(
            Appointment.objects.filter(reach)
            .filter(
                Q(masseur_id__in={s.masseur.pk for s in aware})
                | Q(room_id__in={s.room.pk for s in aware})
                | Q(client_id=client.pk)
            )
            .exclude(status__in=Appointment.NOT_LIVE)
            .exclude(pk=exclude_pk)
            .values_list("masseur_id", "room_id", "client_id", "starts_at", "blocks_until")
        )
    results = []
    for session in sessions:
        errors = _session_errors(
            session, client=client, massage_type=massage_type, facts=facts, closed=closed, booked=booked, now=now
        )
        results.append(errors)
        if not errors:
            # Booked before the next one (as one at a time would), so the next one may clash with it.
            start = session.starts_at
            booked.append((session.masseur.pk, session.room.pk, client.pk, start, start + duration + buffer))
    return results


def _session_errors(session, *, client, massage_type, facts, closed, booked, now) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    starts_at, masseur, room = session
    if timezone.is_naive(starts_at):
        add("starts_at", _("The start needs a time zone."))
        return errors
    ends_at = starts_at + datetime.timedelta(minutes=massage_type.duration_minutes)
    blocks_until = ends_at + datetime.timedelta(minutes=massage_type.buffer_minutes)
    names = {"masseur": masseur.display_name, "room": room.name, "type": massage_type.name}
    mine = facts.get(masseur.pk) or _MasseurFacts(False, {}, [])

    if starts_at < now:
        add("starts_at", _("This time has already passed."))
    if not masseur.is_active:
        add("masseur", _("%(masseur)s no longer works here.") % names)
    if not mine.qualified:
        add("masseur", _("%(masseur)s is not qualified for %(type)s.") % names)
    if not room.is_active:
        add("room", _("%(room)s is not in use.") % names)

    day = local_date(starts_at)
    if (closed_day := closed.get(day)) is not None:
        add("starts_at", closed_day_message(closed_day))
    hours = mine.hours.get(day.weekday(), [])
    if not any(lo <= starts_at and ends_at <= hi for lo, hi in working_intervals(day, hours, kyiv())):
        add("starts_at", _("%(masseur)s does not work at this time.") % names)
    if any(lo < blocks_until and hi > starts_at for lo, hi in mine.off):
        add("masseur", _("%(masseur)s is off at this time.") % names)

    masseur_busy = room_busy = client_busy = False
    for masseur_id, room_id, client_id, lo, hi in booked:
        if lo < blocks_until and hi > starts_at:
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
