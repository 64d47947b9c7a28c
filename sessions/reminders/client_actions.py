"""What a client does from an email link: confirm or cancel an appointment, answer the questionnaire.

No staff user is involved, so these stamp nothing in "by" fields; each action is idempotent because
a client presses twice and mail clients resubmit.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from parlor.contacts import parlor_contacts
from screening.models import Screening
from screening.services import FindingInput, screening_record
from sessions.booking import gate, holds, services
from sessions.localtime import kyiv
from sessions.models import Appointment, ReminderPolicy

logger = logging.getLogger(__name__)

TOO_LATE = "too_late"
# A cancellation by link this close to the start frees a slot worth telling the front desk about.
FREED_SLOT_NOTICE = datetime.timedelta(hours=48)
ON_HOLD_MESSAGE = _("This appointment needs a call from the parlor first.")
SELF_REPORTED_NOTE = "self-reported"


@dataclass(frozen=True)
class ClientActionResult:
    appointment: Appointment
    changed: bool  # False: it was already done (a second press)
    held: bool = False  # the screening no longer allows it: put on hold instead, the front desk calls


def cancel_deadline(*, appointment: Appointment, policy: ReminderPolicy | None = None) -> datetime.datetime:
    """The last instant a client may cancel by link: cancel_cutoff_hours before the start."""
    policy = policy or ReminderPolicy.current()
    return appointment.starts_at - datetime.timedelta(hours=policy.cancel_cutoff_hours)


def can_cancel_by_link(*, appointment: Appointment, now: datetime.datetime, policy: ReminderPolicy) -> bool:
    return now < cancel_deadline(appointment=appointment, policy=policy)


def confirm_refusal(appointment: Appointment) -> ValidationError | None:
    """Why a booked-by-link confirmation cannot happen, or None; the page shows it before any press."""
    if appointment.status == Appointment.Status.CANCELLED:
        return ValidationError(_("This appointment was cancelled."), code="cancelled")
    if appointment.status in (Appointment.Status.ON_HOLD, Appointment.Status.AWAITING_CLEARANCE):
        # On hold, or awaiting a doctor's note: the reception must call, a click cannot release it.
        return ValidationError(ON_HOLD_MESSAGE, code="on_hold")
    if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
        return ValidationError(_("This appointment can no longer be confirmed."), code="not_upcoming")
    return None


def appointment_confirm_by_client(*, appointment: Appointment) -> ClientActionResult:
    """The client says they will come: booked becomes confirmed, if the gate still allows it; one it no longer
    allows (a new block, a clearance gone) is put on hold instead and the front desk told. Confirming again
    changes nothing."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("client", "massage_type", "course")
            .get(pk=appointment.pk)
        )
        if appointment.status == Appointment.Status.CONFIRMED:
            return ClientActionResult(appointment, changed=False)
        refusal = confirm_refusal(appointment)
        if refusal is not None:
            raise refusal
        verdict = gate.appointment_gate(appointment)
        if holds.stops(verdict):
            holds.appointment_hold(appointment=appointment, verdict=verdict, source="confirmation")
            return ClientActionResult(appointment, changed=False, held=True)
        appointment.status = Appointment.Status.CONFIRMED
        appointment.save(update_fields=["status"])
    return ClientActionResult(appointment, changed=True)


def appointment_cancel_by_client(
    *, appointment: Appointment, now: datetime.datetime | None = None
) -> ClientActionResult:
    """The client cancels by link, until the policy's cutoff before the start; after it, a ValidationError
    with code "too_late" (the page then gives the parlor's phone). Cancelling again changes nothing."""
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == Appointment.Status.CANCELLED:
            return ClientActionResult(appointment, changed=False)
        if appointment.status not in Appointment.UPCOMING:
            raise ValidationError(_("This appointment can no longer be cancelled."), code="not_upcoming")
        now = now or timezone.now()
        if not can_cancel_by_link(appointment=appointment, now=now, policy=ReminderPolicy.current()):
            raise ValidationError(_("It is too late to cancel by link; please call the parlor."), code=TOO_LATE)
        # A code, shown to each member of staff in their own language.
        appointment = services.appointment_cancel(
            appointment=appointment, reason=Appointment.CANCELLED_BY_CLIENT_LINK, by=None
        )
        if appointment.starts_at - now <= FREED_SLOT_NOTICE:
            appointment_id = appointment.pk
            transaction.on_commit(lambda: freed_slot_notice_send(appointment_id=appointment_id))
    return ClientActionResult(appointment, changed=True)


def freed_slot_notice(*, appointment: Appointment) -> EmailMultiAlternatives:
    """The reception's short notice that a client's cancellation freed a slot soon: who, when, with whom;
    nothing from the health record."""
    # The front desk works in the parlor's language.
    with translation.override(settings.LANGUAGE_CODE), timezone.override(kyiv()):
        context = {
            "client_name": appointment.client.full_name,
            "client_phone": appointment.client.phone,
            "masseur_name": appointment.masseur.display_name,
            "room_name": appointment.room.name,
            "massage_type": appointment.massage_type.name,
            "starts_at": appointment.starts_at,
            "parlor_name": parlor_contacts().name,
        }
        subject = " ".join(render_to_string("emails/slot-freed-subject.txt", context).split())
        text = render_to_string("emails/slot-freed-body.txt", context)
    return EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [settings.RECEPTION_EMAIL])


def freed_slot_notice_send(*, appointment_id: int) -> bool:
    """Send the notice after the cancellation commits; a mail server that is down never undoes the
    cancellation (the calendar shows the free time anyway)."""
    appointment = (
        Appointment.objects.select_related("client", "masseur", "room", "massage_type")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        return False
    try:
        freed_slot_notice(appointment=appointment).send()
    except Exception:
        logger.exception("could not tell the reception about the freed slot of appointment %s", appointment_id)
        return False
    return True


def self_screening_record(
    *,
    client: Client,
    answers: dict,
    findings: list[FindingInput],
    submission_key: uuid.UUID,
    notes: str = "",
) -> Screening:
    """A questionnaire the client filled in from the emailed link: a new screening marked self-reported
    (the masseur confirms it at check-in); the same submission_key returns the first one."""
    answers = {**answers, "self_reported": True}
    notes = f"{SELF_REPORTED_NOTE}: {notes.strip()}" if notes.strip() else SELF_REPORTED_NOTE
    return screening_record(
        client=client,
        answers=answers,
        findings=findings,
        taken_by=None,
        source=Screening.Source.SELF_REPORTED,
        submission_key=submission_key,
        notes=notes,
    )


def self_screening_received(*, submission_key: uuid.UUID) -> bool:
    """Has the questionnaire of this link been answered already? One query."""
    return Screening.objects.filter(submission_key=submission_key).exists()


def reminder_policy_update(
    *,
    policy: ReminderPolicy,
    appointment_offset_hours: int,
    cancel_cutoff_hours: int,
    fresh_screening_days_ahead: int,
) -> ReminderPolicy:
    """The manager's reminder settings (the one row); the validators give the bounds and their messages.
    Reminders already planned keep their time; new plans use the new settings."""
    with transaction.atomic():
        policy = ReminderPolicy.objects.select_for_update().get(pk=policy.pk)
        policy.appointment_offset_hours = appointment_offset_hours
        policy.cancel_cutoff_hours = cancel_cutoff_hours
        policy.fresh_screening_days_ahead = fresh_screening_days_ahead
        policy.full_clean()
        policy.save()
    return policy
