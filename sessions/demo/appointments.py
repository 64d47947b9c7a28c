"""Demo appointments: the past month and the next one, and a dozen courses in
progress, over the demo masseurs, rooms and clients (parlor, clients and
screening seed before this).

Deterministic for a given day (one seeded Random, dates relative to today)
and idempotent: the first course has a fixed request key, and when it exists
the seeder does nothing.

Only clients whose screening verdict allows massage on the day are booked.
The future is booked through the services, which check everything again (a
session they refuse is simply left out); the past cannot be booked through
them (they refuse past times), so it is written in bulk, planned here so that
nothing overlaps, with the exclusion constraints as the guarantee.
"""

import datetime
import random
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours
from screening import rules
from sessions.booking import page_selectors, services
from sessions.booking.availability import merge, overlaps_any, working_intervals
from sessions.models import Appointment, Course, ReminderPolicy
from sessions.reminders import planning

_NAMESPACE = uuid.UUID("3d0c5b1e-9f6a-4c1b-8e52-7a8f4f2c6d10")
DAYS_BACK = 30
DAYS_AHEAD = 30
COURSES = 12
# Courses whose last sessions are left to book, so the reception panel lists some.
COURSES_WITH_SESSIONS_TO_BOOK = 4
STEP = datetime.timedelta(minutes=15)
SINGLE_TYPES = ["general", "classic-back", "relaxing", "neck-collar", "scoliosis"]
COURSE_TYPES = ["classic-back", "lumbar", "neck-collar", "scoliosis", "relaxing"]
INDICATIONS = {
    "classic-back": Course.Indication.BACK_PAIN,
    "lumbar": Course.Indication.BACK_PAIN,
    "neck-collar": Course.Indication.OSTEOCHONDROSIS,
    "scoliosis": Course.Indication.SCOLIOSIS,
    "relaxing": Course.Indication.FATIGUE,
}
# How likely a free stretch of a masseur's day gets a single session.
FILL = 0.45
CANCEL_REASONS = ["Захворіла", "Змінилися плани", "Відрядження", "Client asked to cancel"]


def _key(kind: str, number: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"demo-{kind}-{number}")


class _Busy:
    """Who and what is taken when, as planned so far (cancelled ones included: simpler, still correct)."""

    def __init__(self):
        self.intervals: dict[tuple, list] = defaultdict(list)

    def free(self, keys, lo, hi) -> bool:
        return not any(overlaps_any(merge(self.intervals[key]), lo, hi) for key in keys)

    def take(self, keys, lo, hi) -> None:
        for key in keys:
            self.intervals[key].append((lo, hi))


class _Plan:
    def __init__(self):
        self.busy = _Busy()
        self.sessions: list[dict] = []
        self.clients_by_day: dict[datetime.date, set[int]] = defaultdict(set)


def _needs_no_more_than_the_screening(massage_type: MassageType) -> bool:
    """True when the type adds no rule of its own for an adult: the demo books adults on the verdict
    without a type, which is then the same verdict the booking services would give."""
    return (
        not massage_type.requires_referral
        and massage_type.code not in rules.ALWAYS_NEEDS_REFERRAL
        and massage_type.code not in rules.NEVER_WHEN_ACUTE
        and massage_type.min_age <= 18
    )


def _minutes(massage_type: MassageType) -> tuple[datetime.timedelta, datetime.timedelta]:
    return datetime.timedelta(minutes=massage_type.duration_minutes), datetime.timedelta(
        minutes=massage_type.buffer_minutes
    )


@transaction.atomic
def seed() -> None:
    """Two months of appointments and a dozen courses in progress; a second run adds nothing."""
    if Course.objects.filter(request_key=_key("course", 0)).exists():
        return
    tz = ZoneInfo(timezone.get_default_timezone_name())
    now = timezone.now()
    today = timezone.localdate()
    rng = random.Random(11)
    users = get_user_model().objects
    booker = users.filter(username="reception").first() or users.filter(is_superuser=True).first()
    if booker is None:
        return
    types = {t.code: t for t in MassageType.objects.filter(is_active=True) if _needs_no_more_than_the_screening(t)}
    masseurs = list(Masseur.objects.filter(is_active=True).prefetch_related("qualifications").order_by("pk"))
    rooms = list(Room.objects.filter(is_active=True).order_by("name"))
    clients = [c for c in Client.objects.active().order_by("pk") if not c.is_minor]
    if not (types and masseurs and rooms and clients):
        return
    qualified = {m.pk: {t.code for t in m.qualifications.all()} for m in masseurs}
    hours: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for wh in WorkingHours.objects.filter(masseur__in=masseurs):
        hours[wh.masseur_id][wh.weekday].append((wh.starts, wh.ends))
    days = [today + datetime.timedelta(days=n) for n in range(-DAYS_BACK, DAYS_AHEAD + 1)]
    first, last = days[0], days[-1]
    off = defaultdict(list)
    for masseur_id, lo, hi in TimeOff.objects.filter(
        starts_at__lt=datetime.datetime.combine(last, datetime.time.max, tzinfo=tz),
        ends_at__gt=datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
    ).values_list("masseur_id", "starts_at", "ends_at"):
        off[masseur_id].append((lo, hi))
    # Who may have massage on each day. Without a massage type the verdict leaves out only the type's own
    # rules (minimum age, referral, acute pain before therapeutic work), which no type booked here has
    # for the adults booked here (DEMO_TYPES_NEED_NO_MORE checks it).
    bookable: dict[datetime.date, set[int]] = defaultdict(set)
    for client in clients:
        for day, verdict in page_selectors.verdicts_by_day(client=client, massage_type=None, days=days).items():
            if verdict.is_bookable:
                bookable[day].add(client.pk)
    windows = {
        (m.pk, day): [
            (lo, hi)
            for lo, hi in working_intervals(day, hours[m.pk].get(day.weekday(), []), tz)
            if not overlaps_any(merge(off[m.pk]), lo, hi)
        ]
        for m in masseurs
        for day in days
    }
    plan = _Plan()

    def fits(masseur, room, client, lo, hi, day) -> bool:
        return (
            plan.busy.free([("m", masseur.pk), ("r", room.pk), ("c", client.pk)], lo, hi)
            and client.pk not in plan.clients_by_day[day]
        )

    def place(masseur, client, massage_type, day, lo, course_number=None, number=None) -> dict | None:
        duration, rest = _minutes(massage_type)
        hi = lo + duration + rest
        if not any(w_lo <= lo and lo + duration <= w_hi for w_lo, w_hi in windows[(masseur.pk, day)]):
            return None
        room = next((r for r in rooms if fits(masseur, r, client, lo, hi, day)), None)
        if room is None:
            return None
        plan.busy.take([("m", masseur.pk), ("r", room.pk), ("c", client.pk)], lo, hi)
        plan.clients_by_day[day].add(client.pk)
        session = {
            "masseur": masseur,
            "client": client,
            "massage_type": massage_type,
            "room": room,
            "starts_at": lo,
            "course": course_number,
            "number": number,
        }
        plan.sessions.append(session)
        return session

    # 1. A dozen courses, started a few days ago, same masseur at the same time.
    course_rows = []
    course_clients = rng.sample([c for c in clients if c.pk in bookable[today]], min(COURSES, len(clients)))
    for number, client in enumerate(course_clients):
        code = COURSE_TYPES[number % len(COURSE_TYPES)]
        massage_type = types.get(code)
        candidates = [m for m in masseurs if code in qualified[m.pk]]
        if massage_type is None or not candidates:
            continue
        masseur = candidates[number % len(candidates)]
        cadence = Course.Cadence.DAILY if number % 3 else Course.Cadence.EVERY_OTHER_DAY
        planned = rng.choice([8, 10, 10])
        start = today - datetime.timedelta(days=rng.randint(2, 8))
        leave = rng.randint(2, 3) if number < COURSES_WITH_SESSIONS_TO_BOOK else 0
        day, placed, at = start, 0, None
        while placed < planned - leave and day <= last:
            if windows[(masseur.pk, day)] and client.pk in bookable[day]:
                lo = windows[(masseur.pk, day)][0][0]
                tries = [at] if at else []
                tries += [lo + STEP * k for k in range(0, 32)]
                for candidate in tries:
                    starts_at = datetime.datetime.combine(day, candidate.astimezone(tz).time(), tzinfo=tz)
                    if place(masseur, client, massage_type, day, starts_at, course_number=number, number=placed + 1):
                        at, placed = starts_at, placed + 1
                        break
                day += datetime.timedelta(days=1 if cadence == Course.Cadence.DAILY else 2)
            else:
                day += datetime.timedelta(days=1)
        course_rows.append((number, client, massage_type, masseur, cadence, planned, at))

    # 2. Single sessions filling each masseur's days about half full.
    pool = [c for c in clients if c.pk not in {row[1].pk for row in course_rows}]
    for day in days:
        allowed = [c for c in pool if c.pk in bookable[day]]
        if not allowed:
            continue
        for masseur in masseurs:
            codes = [code for code in SINGLE_TYPES if code in qualified[masseur.pk] and code in types]
            for lo, hi in windows[(masseur.pk, day)]:
                cursor = lo
                while cursor < hi:
                    if rng.random() < FILL:
                        massage_type = types[rng.choice(codes)]
                        client = rng.choice(allowed)
                        if place(masseur, client, massage_type, day, cursor):
                            duration, rest = _minutes(massage_type)
                            # Round the next start up to the quarter hour.
                            cursor += duration + rest
                            cursor += datetime.timedelta(minutes=-(cursor.astimezone(tz).minute % 15) % 15)
                            continue
                    cursor += STEP * rng.choice([2, 4])

    # 3. Write: the courses, the past in bulk, the future through the services.
    courses = {}
    for number, client, massage_type, masseur, cadence, planned, at in course_rows:
        course = Course(
            client=client,
            massage_type=massage_type,
            indication=INDICATIONS.get(massage_type.code, Course.Indication.OTHER),
            planned_sessions=planned,
            cadence=cadence,
            preferred_masseur=masseur,
            preferred_time=at.astimezone(tz).time() if at else None,
            status=Course.Status.ACTIVE,
            created_by=booker,
            request_key=_key("course", number),
        )
        course.full_clean(validate_unique=False)
        course.save()
        courses[number] = course

    past, future = [], []
    for session in sorted(plan.sessions, key=lambda s: s["starts_at"]):
        (past if session["starts_at"] < now else future).append(session)
    rows = []
    for index, session in enumerate(past):
        duration, rest = _minutes(session["massage_type"])
        status, reason = Appointment.Status.COMPLETED, ""
        roll = rng.random()
        if now < session["starts_at"] + duration:
            status = Appointment.Status.CHECKED_IN
        elif roll < 0.06:
            status = Appointment.Status.NO_SHOW
        elif roll < 0.12 and session["course"] is None:
            status, reason = Appointment.Status.CANCELLED, rng.choice(CANCEL_REASONS)
        rows.append(
            Appointment(
                course=courses.get(session["course"]),
                client=session["client"],
                massage_type=session["massage_type"],
                masseur=session["masseur"],
                room=session["room"],
                starts_at=session["starts_at"],
                ends_at=session["starts_at"] + duration,
                blocks_until=session["starts_at"] + duration + rest,
                status=status,
                booked_by=booker,
                cancellation_reason=reason,
                cancelled_by=booker if reason else None,
                cancelled_at=session["starts_at"] - datetime.timedelta(days=1) if reason else None,
                request_key=_key("past", index),
            )
        )
    Appointment.objects.bulk_create(rows)

    # The future in bulk too: every check appointment_book makes was made while planning (working hours,
    # qualifications, time off, no overlap of masseur, room or client, the verdict of the day), and the
    # exclusion constraints check the overlaps again on insert. Reminders as appointment_book plans them:
    # a single session's now, a course's sessions by the course (left to the scan here, as before).
    booked = Appointment.objects.bulk_create(
        Appointment(
            course=courses.get(session["course"]),
            client=session["client"],
            massage_type=session["massage_type"],
            masseur=session["masseur"],
            room=session["room"],
            starts_at=session["starts_at"],
            ends_at=session["starts_at"] + _minutes(session["massage_type"])[0],
            blocks_until=session["starts_at"] + sum(_minutes(session["massage_type"]), datetime.timedelta()),
            booked_by=booker,
            request_key=_key("future", index),
        )
        for index, session in enumerate(future)
    )
    policy = ReminderPolicy.current()
    for appointment in booked:
        if appointment.course_id is None:
            # What plan_booked does for a single session, with the policy read once.
            planning.plan_appointment(appointment, policy=policy, now=now)

    # Varied statuses ahead: the next two days mostly confirmed, a few cancelled, two on hold.
    singles = [a for a in booked if a.course_id is None]
    soon = today + datetime.timedelta(days=2)
    confirmed = [a.pk for a in booked if timezone.localtime(a.starts_at).date() <= soon and rng.random() < 0.7]
    Appointment.objects.filter(pk__in=confirmed).update(status=Appointment.Status.CONFIRMED)
    later = [a for a in singles if a.pk not in confirmed]
    cancelled = rng.sample(later, min(5, len(later)))
    for appointment in cancelled:
        services.appointment_cancel(appointment=appointment, reason=rng.choice(CANCEL_REASONS), by=booker)
    on_hold = [a.pk for a in later if a not in cancelled][:2]
    Appointment.objects.filter(pk__in=on_hold).update(status=Appointment.Status.ON_HOLD)
