"""Planning reminders: which emails an appointment or a course needs, and when.

Every reminder is inserted with INSERT ... ON CONFLICT (key) DO NOTHING, so planning the same thing twice
(a retried task, the scan after a booking, two scans at once) creates nothing new and needs no savepoint.
The key of an appointment's reminder carries the appointment's start, so a moved appointment gets a new
one and the old one is voided. Many appointments are planned as a set (plan_many: a handful of
statements whatever their number); sending is sessions.reminders.outbox's business, beat's catch-up scan
sessions.reminders.catch_up's, the policy's cache sessions.reminders.policy's.
"""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Max, Q
from django.utils import timezone

from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Course, Reminder, ReminderPolicy
from sessions.reminders.policy import current_policy

Kind = Reminder.Kind
State = Reminder.State
Reason = Reminder.Reason

# Kinds tied to one appointment at one time: voided when it moves or is cancelled.
TIMED_KINDS = (Kind.APPOINTMENT, Kind.FRESH_SCREENING, Kind.COURSE_ENDING, Kind.MOVED)


# --- keys and times -----------------------------------------------------------------------------


def _stamp(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def stamp_sql(column: str) -> str:
    # _stamp in SQL: the start in UTC to the minute, as in every key.
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"')"""


def appointment_key(appointment: Appointment, kind: str) -> str:
    """The key of an appointment's reminder of `kind` for its current start (cancelled: one per appointment)."""
    if kind == Kind.CANCELLED:
        return f"appointment:{appointment.pk}:cancelled"
    return f"appointment:{appointment.pk}:{kind}:{_stamp(appointment.starts_at)}"


def course_key(course: Course, kind: str) -> str:
    return f"course:{course.pk}:{kind}"


def course_ending_key(course: Course, last: Appointment) -> str:
    return _course_ending_key(course.pk, last)


def _course_ending_key(course_id: int, last: Appointment) -> str:
    # The last session is part of the key: when it moves or another becomes last, the key changes.
    return f"course:{course_id}:{Kind.COURSE_ENDING}:{last.pk}:{_stamp(last.starts_at)}"


def _local_wall(instant: datetime.datetime, *, days: int = 0) -> datetime.datetime:
    """The same local wall-clock time `days` earlier in Kyiv, as a real instant.

    Wall-clock arithmetic, not 24 h steps: across a DST change the day before is 23 or 25 hours
    earlier. fold=0 takes the first of a repeated hour; a time in the spring gap maps past it.
    """
    tz = kyiv()
    local = instant.astimezone(tz).replace(tzinfo=None) - datetime.timedelta(days=days)
    return local.replace(tzinfo=tz, fold=0).astimezone(datetime.UTC)


def appointment_due_at(starts_at: datetime.datetime, *, offset_hours: int) -> datetime.datetime:
    """When the reminder goes: whole days before keep the local time (24 h = the day before at the same time)."""
    if offset_hours % 24 == 0:
        return _local_wall(starts_at, days=offset_hours // 24)
    return starts_at - datetime.timedelta(hours=offset_hours)


# --- the screening's age --------------------------------------------------------------------------


def is_stale(taken_at: datetime.datetime | None, *, day: datetime.date) -> bool:
    """Would a screening taken at `taken_at` (None: never screened) be too old on `day`? The verdict's rule."""
    from screening.selectors import stale_after_days

    if taken_at is None:
        return True
    return (day - local_date(taken_at)).days > stale_after_days()


def latest_screening_times(client_ids) -> dict[int, datetime.datetime]:
    """When each client's newest screening was taken (never screened: absent). One query on
    (client, taken_at), never the answers."""
    from screening.models import Screening

    ids = set(client_ids)
    if not ids:
        return {}
    rows = Screening.objects.filter(client_id__in=ids).values("client_id").annotate(latest=Max("taken_at"))
    return {row["client_id"]: row["latest"] for row in rows.order_by()}


def screening_will_be_stale(*, client, day: datetime.date) -> bool:
    """Would the client's latest screening be too old (or missing) on `day`? The same rule as the verdict."""
    return is_stale(latest_screening_times([client.pk]).get(client.pk), day=day)


# --- creating rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A reminder to insert unless its key is taken."""

    key: str
    client_id: int
    kind: str
    due_at: datetime.datetime
    appointment_id: int | None = None
    course_id: int | None = None
    state: str = State.DUE
    reason: str = ""
    # Only when the client has no screening taken at or after this instant (the request for a fresh one,
    # decided in the INSERT itself so that planning one appointment is one statement).
    unless_screened_since: datetime.datetime | None = None

    def reminder(self, pk: int, created_at: datetime.datetime) -> Reminder:
        reminder = Reminder(
            pk=pk,
            key=self.key,
            client_id=self.client_id,
            kind=self.kind,
            due_at=self.due_at,
            appointment_id=self.appointment_id,
            course_id=self.course_id,
            state=self.state,
            reason=self.reason,
            created_at=created_at,
        )
        reminder._state.adding = False
        reminder._state.db = connection.alias
        return reminder


_INSERT = """
    INSERT INTO {table} (key, client_id, kind, due_at, appointment_id, course_id, state, reason, attempts, created_at)
    SELECT v.key, v.client_id, v.kind, v.due_at, v.appointment_id, v.course_id, v.state, v.reason, 0, v.created_at
    FROM (VALUES {values}) AS v (
        key, client_id, kind, due_at, appointment_id, course_id, state, reason, created_at, screened_since
    )
    WHERE v.screened_since IS NULL OR NOT EXISTS (
        SELECT 1 FROM {screening} s WHERE s.client_id = v.client_id AND s.taken_at >= v.screened_since
    )
    ON CONFLICT (key) DO NOTHING
    RETURNING id, key
"""
_VALUES = "(%s, %s::integer, %s, %s::timestamptz, %s::integer, %s::integer, %s, %s, %s::timestamptz, %s::timestamptz)"


def insert(rows: list[Row]) -> dict[str, int]:
    """Insert the rows whose key is free (and whose client has no screening since `unless_screened_since`),
    in one statement; returns {key: id} of those created. A key taken, by an earlier plan or a concurrent
    planner, is not an error and is left as it is."""
    from screening.models import Screening

    rows = list({row.key: row for row in rows}.values())
    if not rows:
        return {}
    now = timezone.now()
    params = []
    for row in rows:
        params += [row.key, row.client_id, row.kind, row.due_at, row.appointment_id, row.course_id, row.state]
        params += [row.reason, now, row.unless_screened_since]
    quote = connection.ops.quote_name
    sql = _INSERT.format(
        table=quote(Reminder._meta.db_table),
        screening=quote(Screening._meta.db_table),
        values=", ".join([_VALUES] * len(rows)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {key: pk for pk, key in cursor.fetchall()}


def ensure(rows: list[Row]) -> list[Reminder]:
    """The reminders of these rows, created where missing: one INSERT, and one SELECT for keys already taken."""
    created = insert(rows)
    now = timezone.now()
    taken = [row.key for row in rows if row.key not in created]
    existing = {r.key: r for r in Reminder.objects.filter(key__in=taken)} if taken else {}
    # Neither created nor there before: a request for a fresh screening the client no longer needs.
    return [
        existing[row.key] if row.key in existing else row.reminder(created[row.key], now)
        for row in rows
        if row.key in existing or row.key in created
    ]


def _ensure(
    *,
    key: str,
    client_id: int,
    kind: str,
    due_at,
    appointment=None,
    course=None,
    course_id=None,
    state=State.DUE,
    reason="",
):
    """One reminder, created unless its key is taken; the existing one otherwise."""
    row = Row(
        key=key,
        client_id=client_id,
        kind=kind,
        due_at=due_at,
        appointment_id=appointment.pk if appointment is not None else None,
        course_id=course.pk if course is not None else course_id,
        state=state,
        reason=reason,
    )
    return ensure([row])[0]


def _void(queryset, reason: Reason) -> int:
    return queryset.filter(state=State.DUE).update(state=State.VOID, reason=reason, retry_at=None)


def _is_upcoming(appointment: Appointment, now: datetime.datetime) -> bool:
    return appointment.status in Appointment.UPCOMING and appointment.starts_at > now


# The newest screening's time unknown to the caller: the INSERT checks it (Row.unless_screened_since).
UNKNOWN = object()


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=kyiv())


def appointment_rows(
    appointment: Appointment, *, policy: ReminderPolicy, now: datetime.datetime, screening_taken_at
) -> list[Row]:
    """The reminder the day before (policy offset) and, if the screening will be stale that day, a request
    for a fresh one a few days ahead. Nothing for a past, cancelled or finished appointment. Pure."""
    if not _is_upcoming(appointment, now):
        return []
    due_at = appointment_due_at(appointment.starts_at, offset_hours=policy.appointment_offset_hours)
    late = due_at < now and appointment.booked_at is not None and appointment.booked_at > due_at
    rows = [
        Row(
            key=appointment_key(appointment, Kind.APPOINTMENT),
            client_id=appointment.client_id,
            kind=Kind.APPOINTMENT,
            due_at=due_at,
            appointment_id=appointment.pk,
            course_id=appointment.course_id,
            # Booked after the reminder's point: a reminder now would only repeat the booking.
            state=State.SKIPPED if late else State.DUE,
            reason=Reason.BOOKED_LATE if late else "",
        )
    ]
    day = local_date(appointment.starts_at)
    if screening_taken_at is UNKNOWN or is_stale(screening_taken_at, day=day):
        from screening.selectors import stale_after_days

        rows.append(
            Row(
                key=appointment_key(appointment, Kind.FRESH_SCREENING),
                client_id=appointment.client_id,
                kind=Kind.FRESH_SCREENING,
                due_at=max(_local_wall(appointment.starts_at, days=policy.fresh_screening_days_ahead), now),
                appointment_id=appointment.pk,
                course_id=appointment.course_id,
                # is_stale's rule: stale on `day` unless taken on or after the local day `stale_after_days` before.
                unless_screened_since=(
                    _start_of(day - datetime.timedelta(days=stale_after_days()))
                    if screening_taken_at is UNKNOWN
                    else None
                ),
            )
        )
    return rows


def plan_appointment(
    appointment: Appointment, *, policy: ReminderPolicy | None = None, now=None, screening_taken_at=UNKNOWN
) -> list[Reminder]:
    """The appointment's reminders (appointment_rows), created where missing. `screening_taken_at`: when
    the client's newest screening was taken (None: never), if the caller knows; checked by the INSERT
    otherwise. One INSERT (and a SELECT of those planned before, to return them)."""
    now = now or timezone.now()
    if not _is_upcoming(appointment, now):
        return []
    return ensure(_rows_of(appointment, policy=policy, now=now, screening_taken_at=screening_taken_at))


def _rows_of(appointment: Appointment, *, policy, now, screening_taken_at) -> list[Row]:
    if not _is_upcoming(appointment, now):
        return []
    return appointment_rows(
        appointment, policy=policy or current_policy(), now=now, screening_taken_at=screening_taken_at
    )


def last_session(course: Course) -> Appointment | None:
    """The course's last live session, the one that carries the invitation to book the next course."""
    return (
        course.appointments.exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client")
        .order_by("-starts_at", "-pk")
        .first()
    )


def last_sessions(course_ids) -> dict[int, Appointment]:
    """The last live session of each course (courses without one absent), with the course's status and
    client as `course_status` and `course_client_id`. One query."""
    ids = set(course_ids)
    if not ids:
        return {}
    lasts = (
        Appointment.objects.filter(course_id__in=ids)
        .exclude(status__in=Appointment.NOT_LIVE)
        .annotate(course_status=F("course__status"), course_client_id=F("course__client_id"))
        .only("id", "course_id", "client_id", "status", "starts_at")
        .order_by("course_id", "-starts_at", "-pk")
        .distinct("course_id")
    )
    return {last.course_id: last for last in lasts}


_LAST_SESSIONS_VOIDING = """
    WITH last AS (
        SELECT DISTINCT ON (a.course_id)
            a.id, a.course_id, a.status, a.starts_at, c.status AS course_status, c.client_id AS course_client_id
        FROM {appointment} a JOIN {course} c ON c.id = a.course_id
        WHERE a.course_id = ANY(%(courses)s) AND NOT a.status = ANY(%(not_live)s)
        ORDER BY a.course_id, a.starts_at DESC, a.id DESC
    ), voided AS (
        UPDATE {reminder} r SET state = %(void)s, reason = %(reason)s, retry_at = NULL
        WHERE r.course_id = ANY(%(courses)s) AND r.kind = %(course_ending)s AND r.state = %(due)s
          AND NOT EXISTS (
            SELECT 1 FROM last
            WHERE last.course_status <> %(cancelled)s AND last.status = ANY(%(upcoming)s) AND last.starts_at > %(now)s
              AND r.key = 'course:' || last.course_id || ':' || %(course_ending)s || ':' || last.id || ':' || {stamp}
          )
    )
    SELECT id, course_id, status, starts_at, course_status, course_client_id FROM last
"""


def course_endings(course_ids, *, policy: ReminderPolicy, now) -> list[Row]:
    """The "course ending" invitation of each course whose last live session is upcoming (rows to insert),
    and every other invitation of these courses still due voided (the last session moved, was cancelled, or
    another became last). One statement: the last sessions, and the UPDATE in the same query."""
    ids = sorted(set(course_ids))
    if not ids:
        return []
    quote = connection.ops.quote_name
    sql = _LAST_SESSIONS_VOIDING.format(
        appointment=quote(Appointment._meta.db_table),
        course=quote(Course._meta.db_table),
        reminder=quote(Reminder._meta.db_table),
        stamp=stamp_sql("last.starts_at"),
    )
    params = {
        "courses": ids,
        "not_live": list(Appointment.NOT_LIVE),
        "upcoming": list(Appointment.UPCOMING),
        "cancelled": Course.Status.CANCELLED,
        "course_ending": Kind.COURSE_ENDING,
        "due": State.DUE,
        "void": State.VOID,
        "reason": Reason.NOT_LAST_SESSION,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        lasts = cursor.fetchall()
    rows = []
    # The same test as the UPDATE's: keep the invitation of an upcoming last session of a live course.
    for pk, course_id, status, starts_at, course_status, client_id in lasts:
        last = Appointment(pk=pk, course_id=course_id, status=status, starts_at=starts_at)
        if course_status == Course.Status.CANCELLED or not _is_upcoming(last, now):
            continue
        rows.append(
            Row(
                key=_course_ending_key(course_id, last),
                client_id=client_id,
                kind=Kind.COURSE_ENDING,
                due_at=appointment_due_at(starts_at, offset_hours=policy.appointment_offset_hours),
                appointment_id=pk,
                course_id=course_id,
            )
        )
    return rows


def plan_course_ending(course: Course, *, policy: ReminderPolicy | None = None, now=None) -> Reminder | None:
    """One "course ending" invitation, sent with the last session's reminder; a stale one (the last session
    moved, was cancelled, or another became last) is voided."""
    now = now or timezone.now()
    rows = course_endings([course.pk], policy=policy or current_policy(), now=now)
    return ensure(rows)[0] if rows else None


def plan_many(appointments, *, policy: ReminderPolicy | None = None, now=None, course_ids=()) -> int:
    """plan_appointment for every appointment and plan_course_ending for each of their courses (and
    `course_ids`), as a set: one statement for the courses' last sessions (voiding stale invitations) and
    one INSERT (checking the screenings' age), whatever the number. Returns how many reminders it created."""
    now = now or timezone.now()
    policy = policy or current_policy()
    upcoming = [a for a in appointments if _is_upcoming(a, now)]
    rows = [row for a in upcoming for row in appointment_rows(a, policy=policy, now=now, screening_taken_at=UNKNOWN)]
    courses = {a.course_id for a in appointments if a.course_id} | set(course_ids)
    if courses:
        rows += course_endings(courses, policy=policy, now=now)
    return len(insert(rows))


# What planning reads of an appointment.
PLANNED_FIELDS = ("id", "client_id", "course_id", "status", "starts_at", "booked_at")


def plan_course_booked(course: Course, *, now=None) -> list[Reminder]:
    """The schedule email now (with the .ics), every session's reminders and the course-ending invitation,
    as a set (plan_many). Returns what is due now."""
    return [course_booked(course, now=now or timezone.now())[0]]


def course_booked(course: Course, *, now) -> tuple[Reminder, int]:
    """The course's schedule email (existing or new), and how many reminders planning it created."""
    row = Row(
        key=course_key(course, Kind.COURSE_BOOKED),
        client_id=course.client_id,
        kind=Kind.COURSE_BOOKED,
        due_at=now,
        course_id=course.pk,
    )
    created = insert([row])
    booked = row.reminder(created[row.key], timezone.now()) if created else Reminder.objects.get(key=row.key)
    appointments = list(course.appointments.only(*PLANNED_FIELDS))
    return booked, len(created) + plan_many(appointments, now=now, course_ids=[course.pk])


def _plan_one(appointment: Appointment, *, now, screening_taken_at=UNKNOWN) -> None:
    """An appointment's reminders and, for a course session, its course's invitation: one INSERT."""
    policy = current_policy()
    rows = _rows_of(appointment, policy=policy, now=now, screening_taken_at=screening_taken_at)
    if appointment.course_id:
        rows += course_endings([appointment.course_id], policy=policy, now=now)
    insert(rows)


def plan_booked(appointment: Appointment, *, now=None, screening_taken_at=UNKNOWN) -> list[Reminder]:
    """A single appointment was booked: its reminders; nothing to send now. `screening_taken_at`: as for
    plan_appointment (the booking's verdict knows it). One statement, two for a session of a course (with
    the policy cached)."""
    _plan_one(appointment, now=now or timezone.now(), screening_taken_at=screening_taken_at)
    return []


def _due_now(appointment: Appointment, kind: str, *, now) -> Reminder:
    """The email about what just happened to the appointment (booked, moved, cancelled), due now."""
    return _ensure(
        key=appointment_key(appointment, kind),
        client_id=appointment.client_id,
        kind=kind,
        due_at=now,
        appointment=appointment,
        course_id=appointment.course_id,
    )


def plan_booked_by_client(appointment: Appointment, *, now=None, screening_taken_at=UNKNOWN) -> list[Reminder]:
    """The client booked it themselves (online, or taking a waiting-list offer): its reminders, and a
    "booked" email now with the calendar file. Returns what is due now."""
    now = now or timezone.now()
    plan_booked(appointment, now=now, screening_taken_at=screening_taken_at)
    if not _is_upcoming(appointment, now):
        return []
    return [_due_now(appointment, Kind.BOOKED, now=now)]


def plan_moved(appointment: Appointment, *, now=None) -> list[Reminder]:
    """The appointment moved: void what was planned for the old time, plan for the new one, and a
    "moved" email now. Returns what is due now."""
    now = now or timezone.now()
    current = {appointment_key(appointment, kind) for kind in TIMED_KINDS}
    _void(
        Reminder.objects.filter(appointment=appointment, kind__in=TIMED_KINDS).exclude(key__in=current),
        Reason.APPOINTMENT_MOVED,
    )
    _plan_one(appointment, now=now)
    if not _is_upcoming(appointment, now):
        return []
    return [_due_now(appointment, Kind.MOVED, now=now)]


def plan_cancelled(appointment: Appointment, *, now=None) -> list[Reminder]:
    """The appointment was cancelled: void its pending reminders and a "cancelled" email now."""
    now = now or timezone.now()
    _void(Reminder.objects.filter(appointment=appointment).exclude(kind=Kind.CANCELLED), Reason.APPOINTMENT_CANCELLED)
    if appointment.course_id:
        plan_many([], now=now, course_ids=[appointment.course_id])
    if appointment.starts_at <= now:
        return []
    return [_due_now(appointment, Kind.CANCELLED, now=now)]


def plan_course_cancelled(course: Course, appointments: list[Appointment], *, now=None) -> list[Reminder]:
    """The rest of a course was cancelled: void every pending reminder of it and one "cancelled" email
    listing the sessions (not one per session)."""
    now = now or timezone.now()
    _void(
        Reminder.objects.filter(Q(course=course) | Q(appointment__in=appointments)).exclude(kind=Kind.CANCELLED),
        Reason.COURSE_CANCELLED,
    )
    if not appointments:
        return []
    return [
        _ensure(
            key=course_key(course, Kind.CANCELLED),
            client_id=course.client_id,
            kind=Kind.CANCELLED,
            due_at=now,
            course=course,
        )
    ]


def plan_course_changed(course: Course, *, now=None) -> list[Reminder]:
    """Sessions were added to a booked course: one email now with the whole updated course (its calendar
    file replaces what the client's calendar has). Returns what is due now."""
    now = now or timezone.now()
    if course.status == Course.Status.CANCELLED:
        return []
    # One per change: the instant, to the microsecond, of the change that planned it.
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        _ensure(
            key=f"{course_key(course, Kind.COURSE_CHANGED)}:{stamp}",
            client_id=course.client_id,
            kind=Kind.COURSE_CHANGED,
            due_at=now,
            course=course,
        )
    ]


# Why a reminder was skipped while its appointment could not take place as booked; released, it is due again.
SKIPPED_ON_HOLD = Reminder.Reason.ON_HOLD
SKIPPED_AWAITING = Reminder.Reason.AWAITING_CLEARANCE


def plan_on_hold(appointment: Appointment, *, key: str, now=None) -> Reminder:
    """The one neutral message of a hold: "please call us", no health detail; `key` is the hold's, so a
    course's sessions held together send one message. Due now."""
    return _ensure(
        key=key,
        client_id=appointment.client_id,
        kind=Kind.ON_HOLD,
        due_at=now or timezone.now(),
        appointment=appointment,
        course_id=appointment.course_id,
    )


def plan_released(appointment: Appointment, *, now=None) -> list[Reminder]:
    """A hold was released or a clearance arrived: the reminders skipped meanwhile are due again (the
    dispatcher skips them still if their time has passed), and whatever is missing is planned."""
    now = now or timezone.now()
    Reminder.objects.filter(
        appointment=appointment, state=State.SKIPPED, reason__in=[SKIPPED_ON_HOLD, SKIPPED_AWAITING]
    ).update(state=State.DUE, reason="", claimed_at=None, retry_at=None)
    _plan_one(appointment, now=now)
    return []


def plan_screening_link(client, *, now=None) -> list[Reminder]:
    """The questionnaire's link by email now, asked for at the desk (from the client's page). One per
    minute: a double click sends one. Returns what is due now."""
    now = now or timezone.now()
    return [
        _ensure(
            key=f"client:{client.pk}:{Kind.SCREENING_LINK}:{_stamp(now)}",
            client_id=client.pk,
            kind=Kind.SCREENING_LINK,
            due_at=now,
        )
    ]
