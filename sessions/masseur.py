"""The masseur's day: reads for My day and the review page, the pain chart, and the check-in
(the day-of questions that start a session or put it on hold)."""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.models import Client
from parlor.models import Masseur
from screening import rules
from screening.models import Clearance, Finding, Screening
from screening.selectors import (
    clearance_facts,
    client_facts,
    latest_screening,
    screening_facts,
    stale_after_days,
    type_facts,
)
from sessions.flags import require_no_open_flags
from sessions.logs import verdict_for_appointment
from sessions.models import Appointment, DayOfCheck, SessionLog
from sessions.selectors import kyiv, local_date

logger = logging.getLogger(__name__)

# What the masseur may start: booked or confirmed, not yet started or done.
STARTABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


# --- My day -------------------------------------------------------------------------------------


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


# --- the pain chart -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PainChart:
    """Geometry of an inline SVG: pain before and after, per session, 0 at the bottom."""

    width: int
    height: int
    before: str  # polyline points
    after: str
    points: list[dict]
    grid: list[dict]


CHART_W, CHART_H, PAD = 360, 160, 28


def pain_chart(sessions: list[tuple[str, int, int]]) -> PainChart | None:
    """(label, pain before, pain after) per session in order; None when there is nothing to draw."""
    if not sessions:
        return None
    span_x = CHART_W - 2 * PAD
    span_y = CHART_H - 2 * PAD
    step = span_x / max(len(sessions) - 1, 1)

    def y(pain: int) -> float:
        return round(PAD + span_y * (10 - pain) / 10, 1)

    points = []
    for index, (label, before, after) in enumerate(sessions):
        x = round(PAD + step * index, 1) if len(sessions) > 1 else CHART_W / 2
        points.append(
            {"x": x, "label": label, "before": before, "after": after, "y_before": y(before), "y_after": y(after)}
        )
    return PainChart(
        width=CHART_W,
        height=CHART_H,
        before=" ".join(f"{p['x']},{p['y_before']}" for p in points),
        after=" ".join(f"{p['x']},{p['y_after']}" for p in points),
        points=points,
        grid=[{"y": y(level), "label": level} for level in (0, 5, 10)],
    )


def pain_trend(*, appointment: Appointment) -> PainChart | None:
    """The pain chart of the appointment's course (without a course: the client's last ten signed logs)."""
    logs = SessionLog.objects.filter(status=SessionLog.Status.SIGNED)
    if appointment.course_id:
        logs = logs.filter(appointment__course_id=appointment.course_id)
    else:
        logs = logs.filter(appointment__client_id=appointment.client_id)
    rows = list(
        logs.order_by("-appointment__starts_at").values_list("appointment__starts_at", "pain_before", "pain_after")[:30]
    )
    rows.reverse()
    return pain_chart([(local_date(at).strftime("%d.%m"), before, after) for at, before, after in rows])


# --- check-in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayOfAnswers:
    fever: bool = False
    intoxication: bool = False
    menstruation: bool | None = None  # None: not asked (male clients)
    acute_pain: bool = False


def hold_reason(answers: DayOfAnswers, *, massage_type_code: str) -> str:
    """Why the session cannot go ahead today, or "" when it can. Pure."""
    reasons = []
    if answers.fever:
        reasons.append(_("fever"))
    if answers.intoxication:
        reasons.append(_("intoxication"))
    if answers.acute_pain and massage_type_code in rules.NEVER_WHEN_ACUTE:
        reasons.append(_("acute back pain before a therapeutic massage"))
    return ", ".join(reasons)


def asks_menstruation(client: Client) -> bool:
    return client.sex == Client.Sex.FEMALE


def _tell_reception(appointment: Appointment) -> None:
    """A short note to the reception; no health details, only who to call."""
    with translation.override(settings.LANGUAGE_CODE):
        when = timezone.localtime(appointment.starts_at).strftime("%Y-%m-%d %H:%M")
        subject = _("Appointment on hold: %(when)s") % {"when": when}
        body = _(
            "The appointment of %(client)s at %(when)s with %(masseur)s is on hold. Please call the client: %(phone)s."
        ) % {
            "client": appointment.client.full_name,
            "when": when,
            "masseur": appointment.masseur.display_name,
            "phone": appointment.client.phone,
        }
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [settings.DEFAULT_FROM_EMAIL])
    except Exception:
        # The hold itself is recorded and shows on the reception dashboard; a
        # mail server that is down must not undo it.
        logger.exception("could not email the reception about appointment %s", appointment.pk)


SELF_REPORT_FIELD = "self_report_confirmed"


def self_reported_screening(appointment: Appointment) -> Screening | None:
    """The client's latest screening for the appointment's day when the client filled it in themselves (the
    masseur goes through it with them at check-in); None when staff took it or there is none. Two queries."""
    screening = latest_screening(client=appointment.client, day=local_date(appointment.starts_at))
    if screening is not None and screening.source == Screening.Source.SELF_REPORTED:
        return screening
    return None


def _require_self_report_confirmed(appointment: Appointment, confirmed_screening_id: int | None) -> Screening | None:
    """The self-reported screening the masseur confirmed, or None when there is none to confirm. The id is the
    one the check-in page showed: a newer self-report since then must be gone through too."""
    screening = self_reported_screening(appointment)
    if screening is None:
        return None
    if confirmed_screening_id is None:
        raise ValidationError(
            {SELF_REPORT_FIELD: _("Go through the self-reported answers with the client before the session starts.")}
        )
    if confirmed_screening_id != screening.pk:
        raise ValidationError(
            {
                SELF_REPORT_FIELD: _(
                    "The client sent newer answers since this page was opened; go through them and confirm again."
                )
            }
        )
    return screening


def appointment_check_in(
    *, appointment: Appointment, answers: DayOfAnswers, by, confirmed_screening_id: int | None = None
) -> DayOfCheck:
    """Start the session: every flag acknowledged, the verdict for the day bookable (or a manager's override of
    a block), a self-reported latest screening gone through with the client (`confirmed_screening_id`: the one
    the masseur saw), the day-of answers recorded. Fever, intoxication, or acute back pain before a therapeutic
    massage put the appointment on hold and tell the reception. Checking in twice returns the first check."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .select_related("client", "massage_type", "masseur")
            .get(pk=appointment.pk)
        )
        existing = DayOfCheck.objects.filter(appointment=appointment).first()
        if appointment.status == Appointment.Status.CHECKED_IN and existing is not None:
            return existing
        if appointment.status == Appointment.Status.ON_HOLD:
            raise ValidationError(
                {NON_FIELD_ERRORS: _("The appointment is on hold; the reception calls the client to rebook.")}
            )
        if appointment.status not in STARTABLE:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _("A %(status)s appointment cannot be started.")
                    % {"status": appointment.get_status_display()}
                }
            )
        if local_date(appointment.starts_at) != timezone.localdate():
            raise ValidationError({NON_FIELD_ERRORS: _("Only today's appointments can be started.")})
        require_no_open_flags(appointment=appointment)
        verdict = verdict_for_appointment(appointment)
        overridden = verdict.status == rules.Status.BLOCKED and bool(appointment.override_reason)
        if not verdict.is_bookable and not overridden:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _("The screening does not allow the session today (%(status)s): %(reasons)s")
                    % {"status": verdict.status.label, "reasons": "; ".join(verdict.reasons) or "-"}
                }
            )
        confirmed = _require_self_report_confirmed(appointment, confirmed_screening_id)
        if not asks_menstruation(appointment.client):
            answers = DayOfAnswers(answers.fever, answers.intoxication, None, answers.acute_pain)
        reason = hold_reason(answers, massage_type_code=appointment.massage_type.code)
        values = {
            "answers": {
                "fever": answers.fever,
                "intoxication": answers.intoxication,
                "menstruation": answers.menstruation,
                "acute_pain": answers.acute_pain,
            },
            "checked_by": by,
            "checked_at": timezone.now(),
            "outcome": DayOfCheck.Outcome.ON_HOLD if reason else DayOfCheck.Outcome.OK,
            "hold_reason": reason,
            "confirmed_screening": confirmed,
        }
        # One check per appointment; one from an earlier hold that reception rebooked is replaced.
        check, _created = DayOfCheck.objects.update_or_create(appointment=appointment, defaults=values)
        appointment.status = Appointment.Status.ON_HOLD if reason else Appointment.Status.CHECKED_IN
        appointment.save(update_fields=["status"])
        if reason:
            transaction.on_commit(lambda: _tell_reception(appointment))
    return check
