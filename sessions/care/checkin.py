"""Check-in: the day-of questions that start a session or put it on hold."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.models import Client
from parlor import formats
from screening import rules
from screening.models import Screening
from screening.selectors import (
    latest_screening,
)
from sessions.care.logs import verdict_for_appointment
from sessions.flags.services import require_no_open_flags
from sessions.localtime import local_date
from sessions.models import Appointment, DayOfCheck

logger = logging.getLogger(__name__)

# What the masseur may start: booked or confirmed, not yet started or done.
STARTABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


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
        when = formats.when(appointment.starts_at)
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
