"""Bookings left with an absent masseur: the appointments a time off clashes with, and where each could go
instead (another qualified masseur at the same time, or the next free time), for the reassignment page and
the dashboard's warning. Moves go through services.appointment_move, so the clients get the "moved" email.

A fixed number of queries whatever the number of appointments: five per massage type among them (the
availability data), one for the clients' other bookings and the list itself."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from parlor.models import Masseur, Room, TimeOff
from sessions.booking import availability
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment

# How far after the appointment (or the end of the time off) the next free time is looked for.
SEARCH_DAYS = 14


def _overlapping_time_off(**extra) -> TimeOff:
    return TimeOff.objects.filter(
        masseur=OuterRef("masseur"), starts_at__lt=OuterRef("blocks_until"), ends_at__gt=OuterRef("starts_at"), **extra
    )


def absent_masseur_appointments(*, time_off: TimeOff | None = None, now: datetime.datetime | None = None) -> list:
    """Upcoming live appointments whose masseur is off for some of it (during `time_off` when given), each
    with `time_off_id`, oldest first. One query."""
    now = now or timezone.now()
    clash = _overlapping_time_off(**({"pk": time_off.pk} if time_off is not None else {}))
    return list(
        Appointment.objects.filter(status__in=Appointment.UPCOMING, starts_at__gte=now)
        .filter(Exists(clash))
        .annotate(time_off_id=Subquery(clash.order_by("starts_at").values("pk")[:1]))
        .select_related("client", "masseur", "room", "massage_type")
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class Option:
    """One place the appointment could go."""

    starts_at: datetime.datetime
    masseur: Masseur
    room: Room
    same_time: bool  # another masseur at the same time; else the next free time

    @property
    def value(self) -> str:
        """The option as the page's radio posts it."""
        return f"{self.masseur.pk}:{self.room.pk}:{self.starts_at.astimezone(datetime.UTC).isoformat()}"


@dataclass
class Clash:
    appointment: Appointment
    options: list[Option] = field(default_factory=list)


def _busy(data: availability.AvailabilityData, masseur_id: int, room_id: int, lo, hi) -> None:
    """Mark an option taken, so the next appointment is not offered the same masseur or room then."""
    data.masseur_busy[masseur_id] = availability.merge([*data.masseur_busy.get(masseur_id, []), (lo, hi)])
    data.room_busy[room_id] = availability.merge([*data.room_busy.get(room_id, []), (lo, hi)])


def reassignment_options(appointments: list[Appointment], *, now: datetime.datetime | None = None) -> list[Clash]:
    """For each appointment (in order): the other qualified masseurs free at the same time (keeping its room),
    then the first free time with its own masseur after the time off, and the first with anybody, within
    SEARCH_DAYS. An option given to one appointment is not offered to the next. Five queries per massage
    type among them, and one."""
    now = now or timezone.now()
    if not appointments:
        return []
    tz = kyiv()
    client_busy: dict[int, list] = defaultdict(list)
    first_day = min(local_date(a.starts_at) for a in appointments)
    for client_id, pk, lo, hi in (
        Appointment.objects.filter(
            client_id__in={a.client_id for a in appointments},
            starts_at__gte=availability.local_day_bounds(first_day, tz)[0] - availability.MAX_BLOCK,
        )
        .exclude(status__in=Appointment.NOT_LIVE)
        .values_list("client_id", "pk", "starts_at", "blocks_until")
    ):
        client_busy[client_id].append((pk, lo, hi))

    by_type: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_type[appointment.massage_type_id].append(appointment)
    clashes: dict[int, Clash] = {}
    for group in by_type.values():
        massage_type = group[0].massage_type
        start = min(local_date(a.starts_at) for a in group)
        end = max(local_date(a.starts_at) for a in group) + datetime.timedelta(days=SEARCH_DAYS)
        days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
        data = availability.load(massage_type=massage_type, days=days)
        for appointment in sorted(group, key=lambda a: (a.starts_at, a.pk)):
            clashes[appointment.pk] = Clash(appointment, _options(appointment, data, days, client_busy, now))
    return [clashes[a.pk] for a in appointments]


def _options(appointment: Appointment, data, days, client_busy, now) -> list[Option]:
    tz = kyiv()
    lo, hi = appointment.starts_at, appointment.blocks_until
    day = local_date(lo)
    own = [(a, b) for pk, a, b in client_busy[appointment.client_id] if pk != appointment.pk]
    options: list[Option] = []
    # The same time with another masseur who works then and is free; the room stays its own.
    if day not in data.closed:
        for masseur_id, masseur in sorted(data.masseurs.items(), key=lambda item: item[1].display_name):
            if masseur_id == appointment.masseur_id:
                continue
            hours = data.hours.get(masseur_id, {}).get(day.weekday(), [])
            works = any(a <= lo and appointment.ends_at <= b for a, b in availability.working_intervals(day, hours, tz))
            if works and not availability.overlaps_any(data.masseur_busy.get(masseur_id, []), lo, hi):
                options.append(Option(lo, masseur, appointment.room, same_time=True))
    # The next free time: with its own masseur (after the time off), then with anybody.
    duration = appointment.ends_at - appointment.starts_at
    buffer = appointment.blocks_until - appointment.ends_at
    step = datetime.timedelta(minutes=15)
    firsts: dict[bool, Option] = {}
    for candidate_day in days:
        if candidate_day < day:
            continue
        for slot in availability.slots_for_day(
            data, candidate_day, duration=duration, buffer=buffer, step=step, now=now
        ):
            if slot.starts_at <= lo or availability.overlaps_any(own, slot.starts_at, slot.blocks_until):
                continue
            same = slot.masseur.pk == appointment.masseur_id
            if same not in firsts:
                room = next((r for r in slot.rooms if r.pk == appointment.room_id), slot.room)
                firsts[same] = Option(slot.starts_at, slot.masseur, room, same_time=False)
        if len(firsts) == 2:
            break
    for same in (True, False):
        if same in firsts and firsts[same] not in options:
            options.append(firsts[same])
    if options:
        first = options[0]
        _busy(data, first.masseur.pk, first.room.pk, first.starts_at, first.starts_at + duration + buffer)
    return options


def parse_option(value: str) -> tuple[int, int, datetime.datetime] | None:
    """(masseur id, room id, start) from a posted option, None when it is not one."""
    try:
        masseur_id, room_id, instant = value.split(":", 2)
        starts_at = datetime.datetime.fromisoformat(instant)
        if timezone.is_naive(starts_at):
            return None
        return int(masseur_id), int(room_id), starts_at
    except (TypeError, ValueError):
        return None


def after_time_off_saved(request, time_off: TimeOff) -> str | None:
    """parlor's hook after a time off is saved: when it clashes with bookings, say so and go to the
    reassignment page (for those who may move appointments)."""
    clashing = absent_masseur_appointments(time_off=time_off)
    if not clashing:
        return None
    messages.warning(
        request,
        ngettext(
            "%(count)s appointment is booked with %(masseur)s during this time off: reassign it.",
            "%(count)s appointments are booked with %(masseur)s during this time off: reassign them.",
            len(clashing),
        )
        % {"count": len(clashing), "masseur": time_off.masseur.display_name},
    )
    if not request.user.has_perm("treatments.change_appointment"):
        return None
    return reverse("sessions:time-off-reassign", args=[time_off.pk])


def absent_summary(*, now=None) -> list[tuple[TimeOff, list[Appointment]]]:
    """The dashboard's warning: every time off with upcoming appointments still booked with its masseur,
    earliest first. Two queries."""
    appointments = absent_masseur_appointments(now=now)
    if not appointments:
        return []
    offs = {
        t.pk: t for t in TimeOff.objects.filter(pk__in={a.time_off_id for a in appointments}).select_related("masseur")
    }
    grouped: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        grouped[appointment.time_off_id].append(appointment)
    return sorted(((offs[pk], rows) for pk, rows in grouped.items()), key=lambda pair: (pair[0].starts_at, pair[0].pk))
