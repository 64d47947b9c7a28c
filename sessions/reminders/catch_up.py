"""Beat's catch-up scan: whatever reminders are missing for appointments close enough for one to fall due,
and the schedule emails of courses booked lately. Planning happens in the booking's own transaction
(sessions.reminders.planning); this catches what a failed task or an old row never planned, finding it by
its key with anti-joins, so a quiet minute costs a few queries.
"""

import datetime

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from sessions.models import Appointment, Course, Reminder
from sessions.reminders.planning import PLANNED_FIELDS, course_booked, plan_many, stamp_sql
from sessions.reminders.policy import current_policy

Kind = Reminder.Kind

_MISSING_APPOINTMENTS = """
    SELECT a.id FROM {appointment} a
    WHERE a.status = ANY(%(upcoming)s) AND a.starts_at > %(now)s AND a.starts_at <= %(horizon)s
      AND NOT EXISTS (
        SELECT 1 FROM {reminder} r WHERE r.key = 'appointment:' || a.id || ':' || %(appointment)s || ':' || {stamp}
      )
"""

_MISSING_COURSE_ENDINGS = """
    SELECT last.course_id FROM (
        SELECT DISTINCT ON (a.course_id) a.course_id, a.id, a.starts_at, a.status
        FROM {appointment} a
        WHERE a.course_id IN (
            SELECT soon.course_id FROM {appointment} soon
            WHERE soon.course_id IS NOT NULL AND soon.status = ANY(%(upcoming)s)
              AND soon.starts_at > %(now)s AND soon.starts_at <= %(horizon)s
          )
          AND NOT a.status = ANY(%(not_live)s)
        ORDER BY a.course_id, a.starts_at DESC, a.id DESC
    ) last
    JOIN {course} c ON c.id = last.course_id
    WHERE c.status <> %(cancelled)s AND last.status = ANY(%(upcoming)s) AND last.starts_at > %(now)s
      AND NOT EXISTS (
        SELECT 1 FROM {reminder} r
        WHERE r.key = 'course:' || last.course_id || ':' || %(course_ending)s || ':' || last.id || ':' || {stamp}
      )
"""


def _missing(sql: str, *, alias: str, now, horizon) -> list[int]:
    quote = connection.ops.quote_name
    tables = {
        "appointment": quote(Appointment._meta.db_table),
        "course": quote(Course._meta.db_table),
        "reminder": quote(Reminder._meta.db_table),
    }
    stamp = stamp_sql(f"{alias}.starts_at")
    params = {
        "upcoming": list(Appointment.UPCOMING),
        "not_live": list(Appointment.NOT_LIVE),
        "cancelled": Course.Status.CANCELLED,
        "appointment": Kind.APPOINTMENT,
        "course_ending": Kind.COURSE_ENDING,
        "now": now,
        "horizon": horizon,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.format(stamp=stamp, **tables), params)
        return [row[0] for row in cursor.fetchall()]


def plan_upcoming(*, now=None) -> int:
    """Plan whatever is missing for appointments close enough for a reminder to fall due, and the schedule
    email of courses booked lately: catches bookings whose planning or queueing never happened. Finds
    what is missing by its key (anti-joins), so a quiet minute is four queries. Returns how many
    reminders it created."""
    now = now or timezone.now()
    policy = current_policy()
    horizon = now + datetime.timedelta(
        hours=max(policy.appointment_offset_hours, policy.fresh_screening_days_ahead * 24) + 24
    )
    appointment_ids = _missing(_MISSING_APPOINTMENTS, alias="a", now=now, horizon=horizon)
    course_ids = _missing(_MISSING_COURSE_ENDINGS, alias="last", now=now, horizon=horizon)
    created = 0
    if appointment_ids or course_ids:
        appointments = list(Appointment.objects.filter(pk__in=appointment_ids).only(*PLANNED_FIELDS))
        created += plan_many(appointments, policy=policy, now=now, course_ids=course_ids)
    # Courses booked in the last two days without their schedule email (never planned).
    # NOT EXISTS by course (its foreign-key index), not NOT IN over every schedule email ever planned.
    scheduled = Reminder.objects.filter(course_id=OuterRef("pk"), kind=Kind.COURSE_BOOKED)
    recent = (
        Course.objects.filter(created_at__gte=now - datetime.timedelta(days=2))
        .exclude(status=Course.Status.CANCELLED)
        .filter(~Exists(scheduled))
    )
    for course in recent:
        created += course_booked(course, now=now)[1]
    return created
