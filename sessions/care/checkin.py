"""Check-in: the day-of questions that start a session or put it on hold."""

import logging
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from screening import rules
from screening.models import Contraindication, Screening
from screening.selectors import (
    latest_screening,
)
from sessions.booking import gate, holds
from sessions.flags.services import require_no_open_flags
from sessions.localtime import local_date
from sessions.models import Appointment, DayOfCheck, Hold

logger = logging.getLogger(__name__)

# What the masseur may start: booked or confirmed, not yet started or done, not on hold or awaiting a clearance.
STARTABLE = Appointment.BOOKABLE
# The day-of questions and the catalogue entries they answer.
DAY_OF_CODES = {
    "fever": "fever",
    "intoxication": "intoxication",
    "menstruation": "menstruation",
    "acute_pain": "acute-back-pain",
}


@dataclass(frozen=True)
class DayOfAnswers:
    fever: bool = False
    intoxication: bool = False
    menstruation: bool | None = None  # None: not asked (male clients, past the age) or not applicable
    acute_pain: bool = False

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in DAY_OF_CODES}


def day_of_findings(answers: DayOfAnswers) -> list[rules.FindingFacts]:
    """The "yes" answers as findings of the catalogue, judged by the same rules as in a screening. One query."""
    codes = [code for name, code in DAY_OF_CODES.items() if getattr(answers, name)]
    if not codes:
        return []
    entries = Contraindication.objects.filter(code__in=codes)
    return [
        rules.FindingFacts(code=c.code, kind=c.kind, name=c.name, is_day_of=c.is_day_of)
        for c in sorted(entries, key=lambda c: codes.index(c.code))
    ]


def hold_reason(verdict: rules.Verdict) -> str:
    """Why the session cannot go ahead today, or "" when it can: the day's blocks and missing permissions."""
    if verdict.is_bookable:
        return ""
    return ", ".join(str(c.name) for c in (*verdict.blockers, *verdict.missing_clearances)) or "; ".join(
        verdict.reasons
    )


def asks_menstruation(client: Client, *, on=None) -> bool:
    """Menstruation is asked of female clients younger than the manager's age limit."""
    from screening.forms import asks_female_questions

    return asks_female_questions(client, on=on or timezone.localdate())


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
    """Start the session: every flag acknowledged, the gate allows it today (a manager's override covers the
    blocks present now, and only those), a self-reported latest screening gone through with the client
    (`confirmed_screening_id`: the one the masseur saw), the day-of answers recorded. The answers are judged
    by the screening's own rules: fever or intoxication, or acute back pain before a therapeutic massage or
    without a doctor's permission, put the appointment on hold and tell the front desk (RECEPTION_EMAIL).
    Checking in twice returns the first check."""
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
        if appointment.status == Appointment.Status.AWAITING_CLEARANCE:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _(
                        "The session awaits a screening or a doctor's clearance: it starts once it is recorded."
                    )
                }
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
        verdict = gate.appointment_gate(appointment)
        if not verdict.is_bookable:
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: _("The screening does not allow the session today (%(status)s): %(reasons)s")
                    % {"status": verdict.status.label, "reasons": "; ".join(verdict.reasons) or "-"}
                }
            )
        confirmed = _require_self_report_confirmed(appointment, confirmed_screening_id)
        if not asks_menstruation(appointment.client, on=local_date(appointment.starts_at)):
            answers = DayOfAnswers(answers.fever, answers.intoxication, None, answers.acute_pain)
        findings = day_of_findings(answers)
        today = gate.appointment_gate(appointment, day_of=findings) if findings else verdict
        reason = hold_reason(today)
        values = {
            "answers": answers.as_dict(),
            "checked_by": by,
            "checked_at": timezone.now(),
            "outcome": DayOfCheck.Outcome.ON_HOLD if reason else DayOfCheck.Outcome.OK,
            "hold_reason": reason,
            "confirmed_screening": confirmed,
        }
        # One check per appointment; one from an earlier hold that reception rebooked is replaced.
        check, _created = DayOfCheck.objects.update_or_create(appointment=appointment, defaults=values)
        if reason:
            holds.appointment_hold(
                appointment=appointment, verdict=today, source="check-in", cause=Hold.Cause.DAY_OF, by=by
            )
        else:
            appointment.status = Appointment.Status.CHECKED_IN
            appointment.save(update_fields=["status"])
    return check
