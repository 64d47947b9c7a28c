"""My day: the masseur's appointments of one day with their verdicts, and who may work on one."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from parlor.models import Masseur
from screening import rules
from screening.selectors import (
    clearances_for_many,
    client_facts,
    screenings_in_force_for_many,
    stale_after_days,
    type_facts,
)
from sessions.booking import gate, holds
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Flag, Override


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    verdict: rules.Verdict
    session_number: int | None  # this session's place in its course (4 of 10)
    planned: int | None
    open_flags: int
    hold: object | None = None  # the open Hold of an appointment on hold: why, who, when
    times: str = ""  # local "09:00–10:00"
    client_url: str = ""
    review_url: str = ""


# What a row shows and what its verdict reads: nothing else of these appointments is loaded (no phone
# numbers parsed, no whole client, course or massage type).
ROW_FIELDS = (
    "starts_at",
    "ends_at",
    "status",
    "course_id",
    "client__full_name",
    "client__birth_date",
    "client__guardian_consent_at",
    "client__allergens",
    "massage_type__code",
    "massage_type__name_uk",
    "massage_type__name_en",
    "massage_type__requires_referral",
    "massage_type__min_age",
    "room__name",
    "course__planned_sessions",
    "course__cadence",
    "course__weekdays",
)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = kyiv()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def _verdicts(
    appointments: list[Appointment], day: datetime.date, starts: dict[int, datetime.date]
) -> dict[int, rules.Verdict]:
    """The gate's verdict per appointment (each with its own massage type, as a session of its course starting
    on `starts[course id]`, with what its overrides cover lifted): four queries however many."""
    client_ids = {a.client_id for a in appointments}
    if not client_ids:
        return {}
    in_force = screenings_in_force_for_many(client_ids, day)
    clearances = clearances_for_many(client_ids, day)
    covered: dict[int, set[str]] = {}
    for appointment_id, covers in Override.objects.filter(appointment__in=appointments).values_list(
        "appointment_id", "covers"
    ):
        covered.setdefault(appointment_id, set()).update(covers)
    days = stale_after_days()
    return {
        a.pk: rules.evaluate(
            facts=client_facts(a.client),
            massage_type=type_facts(a.massage_type),
            day=day,
            screening=in_force.get(a.client_id),
            clearances=clearances.get(a.client_id, []),
            stale_after_days=days,
            course=gate.course_facts(a.course, starts_on=starts[a.course_id]) if a.course_id in starts else None,
        ).overridden(covered.get(a.pk, ()))
        for a in appointments
    }


def _open_flags() -> Coalesce:
    """The appointment's open (unacknowledged) flags, as a subquery: no join and GROUP BY over the row."""
    count = (
        Flag.objects.filter(appointment=OuterRef("pk"), acknowledged_at__isnull=True)
        .order_by()
        .values("appointment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def _pk_url(name: str):
    """reverse() once for a page taking one id (a row has two links)."""
    head, _sep, tail = reverse(name, args=[2147483646]).partition("2147483646")
    return lambda pk: f"{head}{pk}{tail}"


def my_day(*, masseur: Masseur, day: datetime.date) -> list[DayRow]:
    """The masseur's live appointments starting on a local day, in order, with verdicts, course progress,
    open flags and why those on hold are. Six queries whatever the number of appointments (one more when
    any is on hold)."""
    start, end = _day_bounds(day)
    appointments = list(
        Appointment.objects.filter(masseur=masseur, starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client", "massage_type", "room", "course")
        .only(*ROW_FIELDS)
        .annotate(open_flags=_open_flags())
        .order_by("starts_at")
    )
    # Each course's live sessions in order: "session 4 of 10" is a position among them, and the first one's
    # day is when the course starts (the gate's course facts).
    course_ids = {a.course_id for a in appointments if a.course_id}
    positions: dict[int, list[int]] = {}
    starts: dict[int, datetime.date] = {}
    for course_id, pk, starts_at in (
        Appointment.objects.filter(course_id__in=course_ids)
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by("starts_at", "pk")
        .values_list("course_id", "pk", "starts_at")
    ):
        positions.setdefault(course_id, []).append(pk)
        starts.setdefault(course_id, local_date(starts_at))
    verdicts = _verdicts(appointments, day, starts)
    held = holds.open_holds([a.pk for a in appointments if a.status == Appointment.Status.ON_HOLD])
    client_url, review_url = _pk_url("clients:client-detail"), _pk_url("sessions:appointment-review")
    tz = timezone.get_current_timezone()
    rows = []
    for a in appointments:
        order = positions.get(a.course_id, [])
        rows.append(
            DayRow(
                appointment=a,
                verdict=verdicts[a.pk],
                session_number=order.index(a.pk) + 1 if a.pk in order else None,
                planned=a.course.planned_sessions if a.course_id else None,
                open_flags=a.open_flags,
                hold=held.get(a.pk),
                times=f"{a.starts_at.astimezone(tz):%H:%M}–{a.ends_at.astimezone(tz):%H:%M}",
                client_url=client_url(a.client_id),
                review_url=review_url(a.pk),
            )
        )
    return rows


def masseur_of(user) -> Masseur | None:
    """The user's masseur profile, or None."""
    if not user.is_authenticated:
        return None
    return Masseur.objects.filter(user=user).first()


def may_work_on(user, appointment: Appointment) -> bool:
    """The appointment's own masseur, or someone who may review any (the manager)."""
    if user.has_perm("treatments.review_any"):
        return True
    return appointment.masseur.user_id == user.pk and user.has_perm("treatments.view_sessionlog")
