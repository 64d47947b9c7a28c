"""Planning reminders: which emails an appointment or a course needs, and when.

Every reminder is created with get_or_create on its unique key, so planning the
same thing twice (a retried task, the scan after a booking, two scans at once)
creates nothing new. The key of an appointment's reminder carries the
appointment's start, so a moved appointment gets a new one and the old one is
voided. Sending is sessions.reminders.outbox's business.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Course, Reminder, ReminderPolicy

Kind = Reminder.Kind
State = Reminder.State
Reason = Reminder.Reason

# Kinds tied to one appointment at one time: voided when it moves or is cancelled.
TIMED_KINDS = (Kind.APPOINTMENT, Kind.FRESH_SCREENING, Kind.COURSE_ENDING, Kind.MOVED)


# --- keys and times -----------------------------------------------------------------------------


def _stamp(instant: datetime.datetime) -> str:
    return instant.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def appointment_key(appointment: Appointment, kind: str) -> str:
    """The key of an appointment's reminder of `kind` for its current start (cancelled: one per appointment)."""
    if kind == Kind.CANCELLED:
        return f"appointment:{appointment.pk}:cancelled"
    return f"appointment:{appointment.pk}:{kind}:{_stamp(appointment.starts_at)}"


def course_key(course: Course, kind: str) -> str:
    return f"course:{course.pk}:{kind}"


def course_ending_key(course: Course, last: Appointment) -> str:
    # The last session is part of the key: when it moves or another becomes last, the key changes.
    return f"course:{course.pk}:{Kind.COURSE_ENDING}:{last.pk}:{_stamp(last.starts_at)}"


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


def screening_will_be_stale(*, client, day: datetime.date) -> bool:
    """Would the client's latest screening be too old (or missing) on `day`? The same rule as the verdict."""
    from screening.selectors import latest_screening, stale_after_days

    screening = latest_screening(client=client)
    if screening is None:
        return True
    return (day - local_date(screening.taken_at)).days > stale_after_days()


# --- creating rows ------------------------------------------------------------------------------


def _ensure(*, key: str, client_id: int, kind: str, due_at, appointment=None, course=None, state=State.DUE, reason=""):
    """get_or_create on the unique key; a concurrent planner that won the race is not an error."""
    defaults = {
        "client_id": client_id,
        "kind": kind,
        "due_at": due_at,
        "appointment": appointment,
        "course": course,
        "state": state,
        "reason": reason,
    }
    try:
        with transaction.atomic():
            reminder, _created = Reminder.objects.get_or_create(key=key, defaults=defaults)
    except IntegrityError:
        reminder = Reminder.objects.get(key=key)
    return reminder


def _void(queryset, reason: Reason) -> int:
    return queryset.filter(state=State.DUE).update(state=State.VOID, reason=reason, retry_at=None)


def _is_upcoming(appointment: Appointment, now: datetime.datetime) -> bool:
    return appointment.status in Appointment.UPCOMING and appointment.starts_at > now


def plan_appointment(appointment: Appointment, *, policy: ReminderPolicy | None = None, now=None) -> list[Reminder]:
    """The reminder the day before (policy offset) and, if the screening will be stale that day, a request
    for a fresh one a few days ahead. Nothing for a past, cancelled or finished appointment."""
    now = now or timezone.now()
    if not _is_upcoming(appointment, now):
        return []
    policy = policy or ReminderPolicy.current()
    planned = []
    due_at = appointment_due_at(appointment.starts_at, offset_hours=policy.appointment_offset_hours)
    late = due_at < now and appointment.booked_at is not None and appointment.booked_at > due_at
    planned.append(
        _ensure(
            key=appointment_key(appointment, Kind.APPOINTMENT),
            client_id=appointment.client_id,
            kind=Kind.APPOINTMENT,
            due_at=due_at,
            appointment=appointment,
            course=appointment.course,
            # Booked after the reminder's point: a reminder now would only repeat the booking.
            state=State.SKIPPED if late else State.DUE,
            reason=Reason.BOOKED_LATE if late else "",
        )
    )
    day = local_date(appointment.starts_at)
    if screening_will_be_stale(client=appointment.client, day=day):
        ask_at = max(_local_wall(appointment.starts_at, days=policy.fresh_screening_days_ahead), now)
        planned.append(
            _ensure(
                key=appointment_key(appointment, Kind.FRESH_SCREENING),
                client_id=appointment.client_id,
                kind=Kind.FRESH_SCREENING,
                due_at=ask_at,
                appointment=appointment,
                course=appointment.course,
            )
        )
    return planned


def last_session(course: Course) -> Appointment | None:
    """The course's last live session, the one that carries the invitation to book the next course."""
    return (
        course.appointments.exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client")
        .order_by("-starts_at", "-pk")
        .first()
    )


def plan_course_ending(course: Course, *, policy: ReminderPolicy | None = None, now=None) -> Reminder | None:
    """One "course ending" invitation, sent with the last session's reminder; a stale one (the last session
    moved, was cancelled, or another became last) is voided."""
    now = now or timezone.now()
    last = last_session(course) if course.status != Course.Status.CANCELLED else None
    keep = course_ending_key(course, last) if last is not None and _is_upcoming(last, now) else None
    _void(
        Reminder.objects.filter(course=course, kind=Kind.COURSE_ENDING).exclude(key=keep or ""),
        Reason.NOT_LAST_SESSION,
    )
    if keep is None:
        return None
    policy = policy or ReminderPolicy.current()
    return _ensure(
        key=keep,
        client_id=course.client_id,
        kind=Kind.COURSE_ENDING,
        due_at=appointment_due_at(last.starts_at, offset_hours=policy.appointment_offset_hours),
        appointment=last,
        course=course,
    )


def plan_course_booked(course: Course, *, now=None) -> list[Reminder]:
    """The schedule email now (with the .ics), every session's reminders and the course-ending invitation.
    Returns what is due now, for an immediate send."""
    now = now or timezone.now()
    policy = ReminderPolicy.current()
    booked = _ensure(
        key=course_key(course, Kind.COURSE_BOOKED),
        client_id=course.client_id,
        kind=Kind.COURSE_BOOKED,
        due_at=now,
        course=course,
    )
    for appointment in course.appointments.select_related("client", "course"):
        plan_appointment(appointment, policy=policy, now=now)
    plan_course_ending(course, policy=policy, now=now)
    return [booked]


def plan_booked(appointment: Appointment, *, now=None) -> list[Reminder]:
    """A single appointment was booked: its reminders; nothing to send now."""
    plan_appointment(appointment, now=now)
    if appointment.course_id:
        plan_course_ending(appointment.course, now=now)
    return []


def plan_booked_by_client(appointment: Appointment, *, now=None) -> list[Reminder]:
    """The client booked it themselves (online, or taking a waiting-list offer): its reminders, and a
    "booked" email now with the calendar file. Returns what is due now."""
    now = now or timezone.now()
    plan_booked(appointment, now=now)
    if not _is_upcoming(appointment, now):
        return []
    return [
        _ensure(
            key=appointment_key(appointment, Kind.BOOKED),
            client_id=appointment.client_id,
            kind=Kind.BOOKED,
            due_at=now,
            appointment=appointment,
            course=appointment.course,
        )
    ]


def plan_moved(appointment: Appointment, *, now=None) -> list[Reminder]:
    """The appointment moved: void what was planned for the old time, plan for the new one, and a
    "moved" email now. Returns what is due now."""
    now = now or timezone.now()
    current = {appointment_key(appointment, kind) for kind in TIMED_KINDS}
    _void(
        Reminder.objects.filter(appointment=appointment, kind__in=TIMED_KINDS).exclude(key__in=current),
        Reason.APPOINTMENT_MOVED,
    )
    plan_appointment(appointment, now=now)
    if appointment.course_id:
        plan_course_ending(appointment.course, now=now)
    if not _is_upcoming(appointment, now):
        return []
    return [
        _ensure(
            key=appointment_key(appointment, Kind.MOVED),
            client_id=appointment.client_id,
            kind=Kind.MOVED,
            due_at=now,
            appointment=appointment,
            course=appointment.course,
        )
    ]


def plan_cancelled(appointment: Appointment, *, now=None) -> list[Reminder]:
    """The appointment was cancelled: void its pending reminders and a "cancelled" email now."""
    now = now or timezone.now()
    _void(Reminder.objects.filter(appointment=appointment).exclude(kind=Kind.CANCELLED), Reason.APPOINTMENT_CANCELLED)
    if appointment.course_id:
        plan_course_ending(appointment.course, now=now)
    if appointment.starts_at <= now:
        return []
    return [
        _ensure(
            key=appointment_key(appointment, Kind.CANCELLED),
            client_id=appointment.client_id,
            kind=Kind.CANCELLED,
            due_at=now,
            appointment=appointment,
            course=appointment.course,
        )
    ]


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
        course=appointment.course,
    )


def plan_released(appointment: Appointment, *, now=None) -> list[Reminder]:
    """A hold was released or a clearance arrived: the reminders skipped meanwhile are due again (the
    dispatcher skips them still if their time has passed), and whatever is missing is planned."""
    now = now or timezone.now()
    Reminder.objects.filter(
        appointment=appointment, state=State.SKIPPED, reason__in=[SKIPPED_ON_HOLD, SKIPPED_AWAITING]
    ).update(state=State.DUE, reason="", claimed_at=None, retry_at=None)
    plan_appointment(appointment, now=now)
    if appointment.course_id:
        plan_course_ending(appointment.course, now=now)
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


# --- the scan -----------------------------------------------------------------------------------


def plan_upcoming(*, now=None) -> int:
    """Plan whatever is missing for appointments close enough for a reminder to fall due, and the schedule
    email of courses booked lately: catches bookings whose planning or queueing never happened.
    Returns how many reminders it created."""
    now = now or timezone.now()
    policy = ReminderPolicy.current()
    # The newest id before, not count(*): the table only grows and the scan runs every minute.
    before = Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    horizon = now + datetime.timedelta(
        hours=max(policy.appointment_offset_hours, policy.fresh_screening_days_ahead * 24) + 24
    )
    appointments = list(
        Appointment.objects.filter(status__in=Appointment.UPCOMING, starts_at__gt=now, starts_at__lte=horizon)
        .select_related("client", "course")
        .order_by("starts_at")
    )
    have = set(
        Reminder.objects.filter(appointment__in=appointments, kind=Kind.APPOINTMENT).values_list("key", flat=True)
    )
    courses = {}
    for appointment in appointments:
        if appointment_key(appointment, Kind.APPOINTMENT) not in have:
            plan_appointment(appointment, policy=policy, now=now)
        if appointment.course_id:
            courses[appointment.course_id] = appointment.course
    for course in courses.values():
        plan_course_ending(course, policy=policy, now=now)
    # Courses booked in the last two days without their schedule email (never planned).
    recent = Course.objects.filter(created_at__gte=now - datetime.timedelta(days=2)).exclude(
        Q(status=Course.Status.CANCELLED) | Q(reminders__kind=Kind.COURSE_BOOKED)
    )
    for course in recent:
        plan_course_booked(course, now=now)
    return Reminder.objects.filter(pk__gt=before).count()
