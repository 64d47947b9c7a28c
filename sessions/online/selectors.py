"""Reads for the public booking pages: the free times of a day (the front desk's availability, every
rule included), the next free times after one was taken, and a client's own appointments."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from clients.models import Client
from parlor.models import MassageType, Masseur
from sessions.booking import availability
from sessions.localtime import kyiv
from sessions.models import Appointment, OnlinePolicy, WaitlistEntry

# Online, a time starts at least this far ahead: the parlor needs a moment to see the booking.
MIN_NOTICE = datetime.timedelta(hours=1)
# The public page's grid of start times (the front desk's is 15 minutes).
STEP_MINUTES = 30
# How far ahead the public pages look.
MAX_DAYS_AHEAD = 90
NEXT_TIMES_DAYS = 14


@dataclass(frozen=True)
class FreeTime:
    starts_at: datetime.datetime
    masseurs: tuple[Masseur, ...]

    @property
    def local(self) -> datetime.datetime:
        return self.starts_at.astimezone(kyiv())


def masseurs_for(massage_type: MassageType | None) -> list[Masseur]:
    """Active masseurs qualified for the type (every active one when no type). One query."""
    queryset = Masseur.objects.filter(is_active=True).order_by("display_name")
    if massage_type is not None:
        queryset = queryset.filter(qualifications=massage_type)
    return list(queryset.distinct())


def _group(slots, earliest: datetime.datetime) -> list[FreeTime]:
    by_start: dict[datetime.datetime, list[Masseur]] = {}
    for slot in slots:
        if slot.starts_at >= earliest:
            by_start.setdefault(slot.starts_at, []).append(slot.masseur)
    return [FreeTime(start, tuple(masseurs)) for start, masseurs in sorted(by_start.items())]


def free_times(
    *,
    massage_type: MassageType,
    day: datetime.date,
    masseur: Masseur | None = None,
    now: datetime.datetime | None = None,
) -> list[FreeTime]:
    """The start times of a local day when the type can be booked (with `masseur`, or anyone qualified),
    at least MIN_NOTICE from now. One query."""
    now = now or timezone.now()
    slots = availability.free_slots(
        massage_type=massage_type, start_date=day, end_date=day, masseur=masseur, step_minutes=STEP_MINUTES, now=now
    )
    return _group(slots, now + MIN_NOTICE)


def next_free_times(
    *,
    massage_type: MassageType,
    after: datetime.datetime,
    masseur: Masseur | None = None,
    limit: int = 6,
    now: datetime.datetime | None = None,
) -> list[FreeTime]:
    """The first `limit` free times from `after` on, within NEXT_TIMES_DAYS. One query."""
    now = now or timezone.now()
    start = max(after, now).astimezone(kyiv()).date()
    slots = availability.free_slots(
        massage_type=massage_type,
        start_date=start,
        end_date=start + datetime.timedelta(days=NEXT_TIMES_DAYS),
        masseur=masseur,
        step_minutes=STEP_MINUTES,
        now=now,
    )
    return [time for time in _group(slots, now + MIN_NOTICE) if time.starts_at >= after][:limit]


def unconfirmed_online(*, client: Client, now: datetime.datetime | None = None) -> int:
    """The client's upcoming online bookings not confirmed yet, a course counting once. One query."""
    now = now or timezone.now()
    rows = Appointment.objects.filter(
        client=client,
        channel=Appointment.Channel.ONLINE,
        status__in=[Appointment.Status.BOOKED, Appointment.Status.AWAITING_CLEARANCE, Appointment.Status.RESERVED],
        starts_at__gt=now,
    ).values_list("pk", "course_id")
    return len({("course", course_id) if course_id else ("visit", pk) for pk, course_id in rows})


def held(*, client: Client) -> list[Appointment]:
    """The client's times held online (RESERVED), soonest first. One query."""
    return list(
        Appointment.objects.filter(client=client, status=Appointment.Status.RESERVED)
        .select_related("massage_type", "masseur", "course")
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class MyAppointments:
    upcoming: list[Appointment]
    past: list[Appointment]
    waiting: list[WaitlistEntry]


PAST_SHOWN = 20


def my_appointments(*, client: Client, now: datetime.datetime | None = None) -> MyAppointments:
    """What the signed-in client sees: upcoming visits, the last PAST_SHOWN past ones (never the held or
    the staff's notes), and their waiting-list entries. Three queries."""
    now = now or timezone.now()
    mine = Appointment.objects.filter(client=client).select_related("massage_type", "masseur")
    upcoming = list(mine.filter(status__in=Appointment.UPCOMING, starts_at__gt=now).order_by("starts_at", "pk"))
    past = list(
        mine.filter(Q(starts_at__lte=now) | ~Q(status__in=Appointment.UPCOMING))
        .exclude(status=Appointment.Status.RESERVED)
        .order_by("-starts_at", "-pk")[:PAST_SHOWN]
    )
    waiting = list(
        WaitlistEntry.objects.filter(client=client, state=WaitlistEntry.State.WAITING)
        .select_related("massage_type", "masseur")
        .order_by("created_at", "pk")
    )
    return MyAppointments(upcoming=upcoming, past=past, waiting=waiting)


def policy() -> OnlinePolicy:
    return OnlinePolicy.current()
