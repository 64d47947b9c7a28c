"""Free slots: when a massage type can be booked, with whom and in which room.

Pure functions do the arithmetic on plain values; `free_slots` loads what they
need with a fixed number of queries (see `load`) whatever the staff size or
the number of days.

Time: working hours are Kyiv wall-clock times, but every instant here is an
aware UTC datetime. A working interval becomes the set of real instants whose
local wall-clock time lies in it, computed per stretch of constant UTC offset;
so a local time that does not exist (the spring gap) is never offered, and a
local time that happens twice (the autumn repeat) is two distinct instants.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlor.models import ClosedDay, MassageType, Masseur, Room, TimeOff, WorkingHours
from sessions.localtime import kyiv

UTC = datetime.UTC
Interval = tuple[datetime.datetime, datetime.datetime]

MAX_RANGE_DAYS = 366
# The longest a session and its rest can last (parlor.MassageType's validators: 180 + 60 minutes).
MAX_BLOCK = datetime.timedelta(minutes=240)


# --- pure functions -----------------------------------------------------------------------------


def local_day_bounds(day: datetime.date, tz: ZoneInfo) -> Interval:
    """[first instant of the local day, first instant of the next one), in UTC.

    Midnight exists exactly once in Kyiv (the clocks move at 03:00/04:00).
    """
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def offset_stretches(
    day: datetime.date, tz: ZoneInfo
) -> list[tuple[datetime.datetime, datetime.datetime, datetime.timedelta]]:
    """The local day cut where the UTC offset changes: [(utc start, utc end, offset)], one or two stretches."""
    start, end = local_day_bounds(day, tz)

    def offset(instant: datetime.datetime) -> datetime.timedelta:
        return instant.astimezone(tz).utcoffset()

    first, last = offset(start), offset(end - datetime.timedelta(microseconds=1))
    if first == last:
        return [(start, end, first)]
    # Transitions fall on whole minutes: bisect the minutes of the day for the first one with the new offset.
    low, high = 0, int((end - start).total_seconds() // 60)
    while low < high:
        mid = (low + high) // 2
        if offset(start + datetime.timedelta(minutes=mid)) == first:
            low = mid + 1
        else:
            high = mid
    change = start + datetime.timedelta(minutes=low)
    return [(start, change, first), (change, end, last)]


def working_intervals(
    day: datetime.date, hours: Iterable[tuple[datetime.time, datetime.time]], tz: ZoneInfo
) -> list[Interval]:
    """Real (UTC) instants of `day` whose local wall-clock time lies in one of the [starts, ends) intervals.

    Merged and sorted. On 2027-03-28, 00:00-08:00 in Kyiv is 7 hours (22:00Z-05:00Z);
    on 2027-10-31 it is 9 hours (21:00Z-06:00Z).
    """
    pieces: list[Interval] = []
    for stretch_start, stretch_end, offset in offset_stretches(day, tz):
        for starts, ends in hours:
            wall_start = datetime.datetime.combine(day, starts, tzinfo=UTC) - offset
            wall_end = datetime.datetime.combine(day, ends, tzinfo=UTC) - offset
            lo, hi = max(stretch_start, wall_start), min(stretch_end, wall_end)
            if lo < hi:
                pieces.append((lo, hi))
    return merge(pieces)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of half-open intervals; touching ones join."""
    merged: list[list[datetime.datetime]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def overlaps_any(busy: Sequence[Interval], lo: datetime.datetime, hi: datetime.datetime) -> bool:
    """Does [lo, hi) overlap one of the merged, sorted half-open intervals in `busy`?"""
    # The first interval ending after lo is the only candidate.
    index = bisect.bisect_right(busy, lo, key=lambda interval: interval[1])
    return index < len(busy) and busy[index][0] < hi


def candidate_starts(
    window: Interval, *, length: datetime.timedelta, step: datetime.timedelta
) -> Iterable[datetime.datetime]:
    """Starts on the step grid from the window's start at which a session of `length` fits inside it."""
    start, end = window
    while start + length <= end:
        yield start
        start += step


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    blocks_until: datetime.datetime
    masseur: Masseur
    rooms: tuple[Room, ...]

    @property
    def room(self) -> Room:
        return self.rooms[0]


@dataclass
class AvailabilityData:
    """Everything the arithmetic needs for some days, keyed by ids."""

    tz: ZoneInfo
    masseurs: dict[int, Masseur]
    # masseur id -> weekday -> [(starts, ends)]
    hours: dict[int, dict[int, list[tuple[datetime.time, datetime.time]]]]
    # masseur id -> merged busy intervals (appointments up to blocks_until, time off)
    masseur_busy: dict[int, list[Interval]]
    rooms: list[Room]
    room_busy: dict[int, list[Interval]] = field(default_factory=dict)
    # Days the manager closed the parlor (parlor.ClosedDay): never offered.
    closed: frozenset[datetime.date] = frozenset()


def slots_for_day(
    data: AvailabilityData,
    day: datetime.date,
    *,
    duration: datetime.timedelta,
    buffer: datetime.timedelta,
    step: datetime.timedelta,
    now: datetime.datetime,
    masseur_ids: Iterable[int] | None = None,
    one_room: bool = False,
    prefer_room_id: int | None = None,
    only_at: frozenset[datetime.datetime] | None = None,
) -> list[Slot]:
    """Free slots of one local day, sorted by start then masseur name.

    A slot: the day is not closed; the session [start, start + duration) lies
    inside the masseur's working hours and not before `now`; [start, start +
    duration + buffer) overlaps none of the masseur's appointments (with their
    buffers) or time off, and at least one active room is free for all of it.

    `one_room`: each slot names one free room, `prefer_room_id` when it is free, else the first one (the
    search stops there instead of trying every room). `only_at`: only slots starting at one of these instants.
    """
    slots: list[Slot] = []
    if day in data.closed:
        return slots
    rooms = data.rooms
    if one_room and prefer_room_id is not None:
        rooms = sorted(rooms, key=lambda room: room.pk != prefer_room_id)
    ids = data.masseurs.keys() if masseur_ids is None else [i for i in masseur_ids if i in data.masseurs]
    for masseur_id in ids:
        hours = data.hours.get(masseur_id, {}).get(day.weekday())
        if not hours:
            continue
        busy = data.masseur_busy.get(masseur_id, [])
        for window in working_intervals(day, hours, data.tz):
            for start in candidate_starts(window, length=duration, step=step):
                blocks_until = start + duration + buffer
                if only_at is not None and start not in only_at:
                    continue
                if start < now or overlaps_any(busy, start, blocks_until):
                    continue
                free = (
                    room for room in rooms if not overlaps_any(data.room_busy.get(room.pk, []), start, blocks_until)
                )
                if one_room:
                    first = next(free, None)
                    free_rooms = (first,) if first is not None else ()
                else:
                    free_rooms = tuple(free)
                if free_rooms:
                    slots.append(Slot(start, start + duration, blocks_until, data.masseurs[masseur_id], free_rooms))
    slots.sort(key=lambda slot: (slot.starts_at, slot.masseur.display_name, slot.masseur.pk))
    return slots


# --- loading ------------------------------------------------------------------------------------


def _day_ranges(days: Iterable[datetime.date], tz: ZoneInfo) -> list[Interval]:
    """UTC ranges covering the days, consecutive days joined, so a date range is a single condition."""
    return merge(local_day_bounds(day, tz) for day in days)


def load(
    *,
    massage_type: MassageType,
    days: Iterable[datetime.date],
    masseur: Masseur | None = None,
    exclude_appointment_pk: int | None = None,
    exclude_appointment_pks: Collection[int] = (),
    closed: frozenset[datetime.date] | None = None,
) -> AvailabilityData:
    """Load hours, time off, rooms, live appointments and closed days for the days: one statement, whatever
    the staff size or the number of days.

    Masseurs: active and qualified for the massage type (only `masseur` when given). `closed`: the closed
    days when the caller has them already. `exclude_appointment_pk(s)`: as if those appointments were not
    booked.

    Why one hand-written statement: at a day's size the five ORM queries this used to be cost more in
    Django's per-query work (~1 ms each here) than PostgreSQL needs for all of them; each part comes back
    as one JSON value and no timestamp text is parsed (epoch seconds).
    """
    from sessions.models import Appointment

    tz = kyiv()
    days = sorted(set(days))
    ranges = _day_ranges(days, tz)
    # An appointment lasts at most MAX_BLOCK (type length plus rest), so one
    # starting that long before a day can still block its first minutes; the
    # bounds on starts_at alone let the day view's index serve this.
    appointments_reach = Q()
    for lo, hi in ranges:
        appointments_reach |= Q(starts_at__gte=lo - MAX_BLOCK, starts_at__lt=hi + MAX_BLOCK)
    appointments = Appointment.objects.filter(appointments_reach).exclude(status__in=Appointment.NOT_LIVE)
    if exclude_appointment_pk is not None:
        appointments = appointments.exclude(pk=exclude_appointment_pk)
    if exclude_appointment_pks:
        appointments = appointments.exclude(pk__in=exclude_appointment_pks)
    live_sql, live_params = appointments.values(
        "room_id", "masseur_id", "starts_at", "blocks_until"
    ).query.sql_with_params()
    weekdays = sorted({day.weekday() for day in days})
    reach = [(lo - MAX_BLOCK, hi + MAX_BLOCK) for lo, hi in ranges]
    want_closed = closed is None and bool(days)
    only = masseur.pk if masseur is not None else None
    params = [
        only,
        only,
        massage_type.pk,
        weekdays,
        [lo for lo, _hi in reach],
        [hi for _lo, hi in reach],
        want_closed,
        days[0] if days else None,
        days[-1] if days else None,
        *live_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_load_sql(live_sql), params)
        hours_rows, room_rows, time_off_rows, closed_rows, busy_rows = cursor.fetchone()

    masseurs: dict[int, Masseur] = {}
    hours: dict[int, dict[int, list[tuple[datetime.time, datetime.time]]]] = defaultdict(lambda: defaultdict(list))
    for pk, user_id, display_name, is_active, weekday, starts, ends in hours_rows or ():
        if pk not in masseurs:
            masseurs[pk] = Masseur.from_db(connection.alias, _MASSEUR_FIELDS, (pk, user_id, display_name, is_active))
        hours[pk][weekday].append((datetime.time.fromisoformat(starts), datetime.time.fromisoformat(ends)))
    rooms = [Room.from_db(connection.alias, _ROOM_FIELDS, tuple(row)) for row in room_rows or ()]

    instant = datetime.datetime.fromtimestamp
    masseur_busy: dict[int, list[Interval]] = defaultdict(list)
    for masseur_id, lo, hi in time_off_rows or ():
        masseur_busy[masseur_id].append((instant(lo, UTC), instant(hi, UTC)))
    room_busy: dict[int, list[Interval]] = defaultdict(list)
    for room_id, masseur_id, los, his in busy_rows or ():
        busy = [(instant(lo, UTC), instant(hi, UTC)) for lo, hi in zip(los, his, strict=True)]
        if masseur_id is None:
            room_busy[room_id] += busy
        else:
            masseur_busy[masseur_id] += busy
    if closed is None:
        closed = frozenset(datetime.date.fromisoformat(day) for day in closed_rows or ())

    return AvailabilityData(
        tz=tz,
        masseurs=masseurs,
        hours={k: dict(v) for k, v in hours.items()},
        masseur_busy={k: merge(v) for k, v in masseur_busy.items()},
        rooms=rooms,
        room_busy={k: merge(v) for k, v in room_busy.items()},
        closed=closed,
    )


_MASSEUR_FIELDS = ["id", "user_id", "display_name", "is_active"]
_ROOM_FIELDS = ["id", "name", "notes", "is_active"]


def _load_sql(live_sql: str) -> str:
    """The statement of `load`, around the live appointments' query (`live_sql`, its parameters last).

    Busy time is merged in PostgreSQL (range_agg) per room and per masseur, sent as epoch seconds: a week's
    ~1,500 appointments become a few hundred intervals. The rooms are shared by all masseurs, so their busy
    time is not filtered by masseur."""
    qualifications = Masseur.qualifications.through._meta
    return f"""
        WITH qualified AS (
            SELECT m.id, m.user_id, m.display_name, m.is_active FROM {Masseur._meta.db_table} m
            WHERE m.is_active AND (%s::int IS NULL OR m.id = %s::int)
            AND EXISTS (SELECT 1 FROM {qualifications.db_table} q WHERE q.masseur_id = m.id AND q.massagetype_id = %s)
        )
        SELECT
            (SELECT json_agg(json_build_array(m.id, m.user_id, m.display_name, m.is_active, h.weekday, h.starts,
                    h.ends) ORDER BY m.id, h.weekday, h.starts)
                FROM qualified m JOIN {WorkingHours._meta.db_table} h ON h.masseur_id = m.id
                WHERE h.weekday = ANY(%s::int[])),
            (SELECT json_agg(json_build_array(r.id, r.name, r.notes, r.is_active) ORDER BY r.name)
                FROM {Room._meta.db_table} r WHERE r.is_active),
            (SELECT json_agg(json_build_array(t.masseur_id, extract(epoch FROM t.starts_at)::float8,
                    extract(epoch FROM t.ends_at)::float8))
                FROM {TimeOff._meta.db_table} t
                WHERE t.masseur_id IN (SELECT id FROM qualified)
                AND EXISTS (SELECT 1 FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS reach(lo, hi)
                            WHERE t.starts_at < reach.hi AND t.ends_at > reach.lo)),
            (SELECT json_agg(c.day) FROM {ClosedDay._meta.db_table} c WHERE %s AND c.day BETWEEN %s AND %s),
            (SELECT json_agg(json_build_array(room_id, masseur_id, los, his)) FROM (
                SELECT room_id, masseur_id,
                    array_agg(extract(epoch FROM lower(busy))::float8 ORDER BY lower(busy)) AS los,
                    array_agg(extract(epoch FROM upper(busy))::float8 ORDER BY lower(busy)) AS his
                FROM (SELECT room_id, masseur_id, unnest(range_agg(tstzrange(starts_at, blocks_until))) AS busy
                      FROM ({live_sql}) AS live GROUP BY GROUPING SETS ((room_id), (masseur_id))) AS merged
                WHERE masseur_id IS NULL OR masseur_id IN (SELECT id FROM qualified)
                GROUP BY room_id, masseur_id) AS busy)
    """


def free_slots(
    *,
    massage_type: MassageType,
    start_date: datetime.date,
    end_date: datetime.date,
    masseur: Masseur | None = None,
    step_minutes: int = 15,
    now: datetime.datetime | None = None,
    exclude_appointment_pk: int | None = None,
    exclude_appointment_pks: Collection[int] = (),
) -> list[Slot]:
    """Free slots of the massage type from start_date to end_date inclusive (local dates), in one query;
    `exclude_appointment_pk`: as if that appointment were not booked (moving it); `exclude_appointment_pks`:
    as if those were not (the holds a new online hold replaces)."""
    if end_date < start_date:
        raise ValidationError({"end_date": _("The end date must not be before the start date.")})
    if (end_date - start_date).days >= MAX_RANGE_DAYS:
        raise ValidationError({"end_date": _("Look at most a year ahead.")})
    if not 5 <= step_minutes <= 120:
        raise ValidationError({"step_minutes": _("The step must be between 5 and 120 minutes.")})
    days = [start_date + datetime.timedelta(days=n) for n in range((end_date - start_date).days + 1)]
    data = load(
        massage_type=massage_type,
        days=days,
        masseur=masseur,
        exclude_appointment_pk=exclude_appointment_pk,
        exclude_appointment_pks=exclude_appointment_pks,
    )
    now = now or timezone.now()
    slots: list[Slot] = []
    for day in days:
        slots += slots_for_day(
            data,
            day,
            duration=datetime.timedelta(minutes=massage_type.duration_minutes),
            buffer=datetime.timedelta(minutes=massage_type.buffer_minutes),
            step=datetime.timedelta(minutes=step_minutes),
            now=now,
        )
    return slots
