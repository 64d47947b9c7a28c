"""My day: the masseur's appointments of one day with their verdicts, and who may work on one."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q

from parlor.models import Masseur
from screening import rules
from screening.models import Clearance, Finding, Screening
from screening.selectors import (
    clearance_facts,
    client_facts,
    screening_facts,
    stale_after_days,
    type_facts,
)
from sessions.localtime import kyiv
from sessions.models import Appointment


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    verdict: rules.Verdict
    session_number: int | None  # this session's place in its course (4 of 10)
    planned: int | None
    open_flags: int


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = kyiv()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def _verdicts(appointments: list[Appointment], day: datetime.date) -> dict[int, rules.Verdict]:
    """A verdict per appointment (each with its own massage type); three queries however many."""
    client_ids = {a.client_id for a in appointments}
    if not client_ids:
        return {}
    end = _day_bounds(day)[1]
    # DISTINCT ON (client_id), newest first: each client's screening in force on the day.
    latest = {
        s.client_id: s
        for s in Screening.objects.filter(client_id__in=client_ids, taken_at__lt=end)
        .order_by("client_id", "-taken_at", "-pk")
        .distinct("client_id")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.select_related("contraindication")))
    }
    clearances: dict[int, list[rules.ClearanceFacts]] = {}
    for clearance in (
        Clearance.objects.valid_on(day)
        .filter(client_id__in=client_ids)
        .select_related("covers_contraindication", "covers_massage_type")
    ):
        clearances.setdefault(clearance.client_id, []).append(clearance_facts(clearance))
    days = stale_after_days()
    return {
        a.pk: rules.evaluate(
            facts=client_facts(a.client),
            massage_type=type_facts(a.massage_type),
            day=day,
            screening=screening_facts(latest.get(a.client_id)),
            clearances=clearances.get(a.client_id, []),
            stale_after_days=days,
        )
        for a in appointments
    }


def my_day(*, masseur: Masseur, day: datetime.date) -> list[DayRow]:
    """The masseur's live appointments starting on a local day, in order, with verdicts, course progress and
    open flags. Six queries whatever the number of appointments."""
    start, end = _day_bounds(day)
    appointments = list(
        Appointment.objects.filter(masseur=masseur, starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client", "massage_type", "room", "course")
        .annotate(open_flags=Count("flags", filter=Q(flags__acknowledged_at__isnull=True)))
        .order_by("starts_at")
    )
    # Each course's live sessions in order: "session 4 of 10" is a position among them.
    course_ids = {a.course_id for a in appointments if a.course_id}
    positions: dict[int, list[int]] = {}
    for course_id, pk in (
        Appointment.objects.filter(course_id__in=course_ids)
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by("starts_at", "pk")
        .values_list("course_id", "pk")
    ):
        positions.setdefault(course_id, []).append(pk)
    verdicts = _verdicts(appointments, day)
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
