"""My day: the masseur's appointments of one day with their verdicts, and who may work on one."""

import datetime
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, F, Func, Min, OuterRef, Subquery
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
from sessions.booking.calendar import _course_number, open_flags_count
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Override


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


def _verdicts(appointments: list[Appointment], day: datetime.date) -> dict[int, rules.Verdict]:
    """The gate's verdict per appointment (each with its own massage type, as a session of its course, with
    what its overrides cover lifted; both annotated on the appointments): three queries however many."""
    client_ids = {a.client_id for a in appointments}
    if not client_ids:
        return {}
    in_force = screenings_in_force_for_many(client_ids, day)
    clearances = clearances_for_many(client_ids, day)
    days = stale_after_days()
    return {
        a.pk: rules.evaluate(
            facts=client_facts(a.client),
            massage_type=type_facts(a.massage_type),
            day=day,
            screening=in_force.get(a.client_id),
            clearances=clearances.get(a.client_id, []),
            stale_after_days=days,
            course=gate.course_facts(a.course, starts_on=local_date(a.course_first)) if a.course_first else None,
        ).overridden(a.covered or ())
        for a in appointments
    }


def _course_first() -> Subquery:
    """When the appointment's course starts: its first live session (gate.course_starts, as a subquery)."""
    return Subquery(
        Appointment.objects.filter(course=OuterRef("course"))
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by()
        .values("course")
        .annotate(first=Min("starts_at"))
        .values("first")
    )


def _covered() -> ArraySubquery:
    """Every blocker code the appointment's overrides cover (a manager's written reasons)."""
    unnested = Func(F("covers"), function="unnest", output_field=CharField())
    overrides = Override.objects.filter(appointment=OuterRef("pk")).order_by()
    return ArraySubquery(overrides.annotate(code=unnested).values("code"))


def _pk_url(name: str):
    """reverse() once for a page taking one id (a row has two links)."""
    head, _sep, tail = reverse(name, args=[2147483646]).partition("2147483646")
    return lambda pk: f"{head}{pk}{tail}"


def my_day(*, masseur: Masseur, day: datetime.date) -> list[DayRow]:
    """The masseur's live appointments starting on a local day, in order, with verdicts, course progress,
    open flags and why those on hold are. Four queries whatever the number of appointments (one more when
    any is on hold)."""
    start, end = _day_bounds(day)
    appointments = list(
        Appointment.objects.filter(masseur=masseur, starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client", "massage_type", "room", "course")
        .only(*ROW_FIELDS)
        .annotate(
            open_flags=open_flags_count(),
            # "Session 4 of 10": its place among the course's live sessions.
            session_number=_course_number(),
            course_first=_course_first(),
            covered=_covered(),
        )
        .order_by("starts_at")
    )
    verdicts = _verdicts(appointments, day)
    held = holds.open_holds([a.pk for a in appointments if a.status == Appointment.Status.ON_HOLD])
    client_url, review_url = _pk_url("clients:client-detail"), _pk_url("sessions:appointment-review")
    tz = timezone.get_current_timezone()
    return [
        DayRow(
            appointment=a,
            verdict=verdicts[a.pk],
            session_number=a.session_number if a.course_id else None,
            planned=a.course.planned_sessions if a.course_id else None,
            open_flags=a.open_flags,
            hold=held.get(a.pk),
            times=f"{a.starts_at.astimezone(tz):%H:%M}–{a.ends_at.astimezone(tz):%H:%M}",
            client_url=client_url(a.client_id),
            review_url=review_url(a.pk),
        )
        for a in appointments
    ]


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
