"""Holds: an appointment the screening no longer allows (or the day-of answers stop) is put on hold, the
front desk is told once per check (one notice listing the sessions of a course), and the client gets one
neutral "please call us" message instead of reminders. A hold is released by an action, never by
editing the status: reception releases it once the verdict allows the appointment again, a manager's
written override releases it while a block remains. Sessions awaiting a doctor's clearance become
booked by themselves once the verdict allows them.

The once comes from the database: the hold is a conditional UPDATE of the status (of two concurrent
checks one wins, and a partial unique index keeps one open hold per appointment), and the notice
claims its holds with another conditional UPDATE."""

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from screening import rules
from sessions.booking import gate
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Hold

logger = logging.getLogger(__name__)

OVERRIDE_PERMISSION = "treatments.override_block"
# What a hold may stop: booked sessions, and one pencilled in awaiting a clearance that is now blocked.
HOLDABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED, Appointment.Status.AWAITING_CLEARANCE)


def reception_email() -> str:
    return getattr(settings, "RECEPTION_EMAIL", settings.DEFAULT_FROM_EMAIL)


def _reminders():
    from sessions.reminders import planning, tasks

    return planning, tasks


# --- what a verdict stops ------------------------------------------------------------------------


def stops(verdict: rules.Verdict) -> bool:
    """Does this verdict stop a booked appointment? A block or a missing clearance does; a screening
    grown old does not by itself (the client is asked for a fresh one and the masseur is told)."""
    return bool(verdict.blockers or verdict.missing_clearances)


def advice_for(verdict: rules.Verdict, *, cause: str = Hold.Cause.HEALTH) -> str:
    """What the front desk does about it, said without any health detail."""
    if cause == Hold.Cause.DAY_OF and (verdict.blockers or not verdict.missing_clearances):
        return Hold.Advice.REBOOK
    if verdict.blockers:
        return Hold.Advice.OVERRIDE
    if verdict.missing_clearances:
        return Hold.Advice.CLEARANCE
    return Hold.Advice.SCREENING


def concerns_of(verdict: rules.Verdict) -> list[dict]:
    """The findings behind a hold, for those who may see the health record."""
    concerns = [{"code": c.code, "name": str(c.name)} for c in (*verdict.blockers, *verdict.missing_clearances)]
    if verdict.needs_screening:
        concerns.append({"code": "screening", "name": str(_("a fresh screening"))})
    return concerns


# --- putting on hold -----------------------------------------------------------------------------


def appointment_hold(
    *,
    appointment: Appointment,
    verdict: rules.Verdict,
    source: str,
    cause: str = Hold.Cause.HEALTH,
    by=None,
    batch: uuid.UUID | None = None,
    notify: bool = True,
) -> Hold | None:
    """Put the appointment on hold for what `verdict` says, recording who (None: the automatic check), when
    and why; None when another check did it first or it is past holding. With `notify`, the front desk
    and the client are told after the commit (pass one `batch` to several calls and notify once)."""
    with transaction.atomic():
        changed = Appointment.objects.filter(pk=appointment.pk, status__in=HOLDABLE).update(
            status=Appointment.Status.ON_HOLD
        )
        if not changed:
            return None
        appointment.status = Appointment.Status.ON_HOLD
        hold = Hold.objects.create(
            appointment=appointment,
            cause=cause,
            advice=advice_for(verdict, cause=cause),
            concerns=concerns_of(verdict),
            source=source,
            held_by=by,
            batch=batch or uuid.uuid4(),
        )
        if notify:
            notify_on_commit(hold.batch)
    return hold


def notify_on_commit(batch: uuid.UUID) -> None:
    """After the commit: one notice to the front desk for the batch, one message to each client."""
    planning, tasks = _reminders()
    health = list(
        Hold.objects.filter(batch=batch, cause=Hold.Cause.HEALTH).select_related("appointment__course").order_by("pk")
    )
    # The client is at the parlor when the day-of answers stop a session; otherwise one message per batch.
    if health:
        tasks.send_on_commit([planning.plan_on_hold(health[0].appointment, key=f"hold:{batch}")])
    transaction.on_commit(lambda: hold_notice_send(batch=batch))


def hold_notice(*, holds: list[Hold]) -> EmailMultiAlternatives:
    """The note to the front desk: whose sessions, when, with whom, and what to do; never a health detail."""
    first = holds[0].appointment
    tz = kyiv()
    context = {
        "client_name": first.client.full_name,
        "client_phone": first.client.phone,
        "sessions": [
            {
                "starts_at": timezone.localtime(h.appointment.starts_at, tz),
                "masseur": h.appointment.masseur.display_name,
            }
            for h in holds
        ],
        "starts_at": timezone.localtime(first.starts_at, tz),
        "parlor_name": settings.PARLOR_NAME,
    }
    # The front desk works in the parlor's language.
    with translation.override(settings.LANGUAGE_CODE):
        context["advice"] = list(dict.fromkeys(str(Hold.Advice(h.advice).label) for h in holds))
        subject = " ".join(render_to_string("emails/flag-hold-subject.txt", context).split())
        text = render_to_string("emails/flag-hold-body.txt", context)
        html = render_to_string("emails/flag-hold-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [reception_email()])
    message.attach_alternative(html, "text/html")
    return message


def hold_notice_send(*, batch: uuid.UUID) -> bool:
    """Tell the front desk about the holds of one batch, once: the conditional UPDATE claims them. A mail
    server that is down never undoes a hold; the dashboard shows it anyway."""
    ids = list(Hold.objects.filter(batch=batch, notified_at__isnull=True).values_list("pk", flat=True))
    if not ids or not Hold.objects.filter(pk__in=ids, notified_at__isnull=True).update(notified_at=timezone.now()):
        return False
    holds = list(
        Hold.objects.filter(pk__in=ids)
        .select_related("appointment__client", "appointment__masseur")
        .order_by("appointment__starts_at", "pk")
    )
    try:
        hold_notice(holds=holds).send()
    except Exception:
        logger.exception("could not email the front desk about the holds of batch %s", batch)
        return False
    return True


# --- releasing -----------------------------------------------------------------------------------


def open_hold(appointment: Appointment) -> Hold | None:
    return Hold.objects.filter(appointment_id=appointment.pk, released_at__isnull=True).first()


def open_holds(appointment_ids: Iterable[int]) -> dict[int, Hold]:
    """The open hold of each appointment that has one, with who held it. One query."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    return {
        hold.appointment_id: hold
        for hold in Hold.objects.filter(appointment_id__in=ids, released_at__isnull=True).select_related("held_by")
    }


def holds_of(appointment: Appointment) -> list[Hold]:
    """Every hold of the appointment, released ones included, oldest first. One query."""
    return list(Hold.objects.filter(appointment_id=appointment.pk).select_related("held_by", "released_by"))


def release_refusal(appointment: Appointment, hold: Hold | None, verdict: rules.Verdict) -> str | None:
    """Why reception cannot release the hold now, or None when the verdict allows the appointment again."""
    if hold is None or appointment.status != Appointment.Status.ON_HOLD:
        return _("The appointment is not on hold.")
    if hold.cause == Hold.Cause.DAY_OF and local_date(appointment.starts_at) <= local_date(hold.held_at):
        return _("The answers on the day stopped this session: move it to another day first.")
    if verdict.is_bookable:
        return None
    if verdict.blockers:
        return _("Massage is still contraindicated: only a manager's written override releases it.")
    if verdict.missing_clearances:
        return _("A doctor's clearance must be recorded first.")
    return _("The client needs an up-to-date screening first.")


def appointment_release(*, appointment: Appointment, by, override_reason: str = "") -> Appointment:
    """Release a hold by an action: when the verdict allows the appointment again; or, while a block
    remains, with a manager's written override of exactly the blocks present now. The hold stays in the
    history with who released it, when and how; the appointment is booked again and its reminders are
    planned anew."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("client", "massage_type", "course")
            .get(pk=appointment.pk)
        )
        hold = open_hold(appointment)
        raw = gate.raw_verdict(appointment)
        verdict = raw.overridden(gate.covered_codes(appointment))
        # Kept for the staff, in the parlor's language whoever released it.
        with translation.override(settings.LANGUAGE_CODE):
            notes = {"verdict": _("The screening allows it again."), "override": _("A manager's written override.")}
        note = notes["verdict"]
        if verdict.blockers and override_reason.strip():
            if not by.has_perm(OVERRIDE_PERMISSION):
                raise PermissionDenied
            if release_refusal(appointment, hold, verdict.overridden(verdict.blocker_codes)) is None:
                gate.override_record(appointment=appointment, verdict=raw, reason=override_reason, by=by)
                verdict = verdict.overridden(verdict.blocker_codes)
                note = notes["override"]
        refusal = release_refusal(appointment, hold, verdict)
        if refusal is not None:
            raise ValidationError({NON_FIELD_ERRORS: refusal})
        now = timezone.now()
        Hold.objects.filter(pk=hold.pk).update(released_at=now, released_by=by, release_note=note)
        appointment.status = Appointment.Status.BOOKED
        appointment.save(update_fields=["status"])
        _replan(appointment)
    return appointment


def _replan(appointment: Appointment) -> None:
    planning, tasks = _reminders()
    tasks.send_on_commit(planning.plan_released(appointment))


def awaiting_release(*, appointments: Iterable[Appointment], source: str) -> tuple[list[Appointment], list[Hold]]:
    """Sessions awaiting a clearance that the verdict now allows become booked by themselves; one now
    blocked goes on hold (one notice for all of them). Returns (booked, held)."""
    booked, held = [], []
    batch = uuid.uuid4()
    with transaction.atomic():
        for appointment in appointments:
            if appointment.status != Appointment.Status.AWAITING_CLEARANCE:
                continue
            verdict = gate.appointment_gate(appointment)
            if verdict.is_bookable:
                changed = Appointment.objects.filter(
                    pk=appointment.pk, status=Appointment.Status.AWAITING_CLEARANCE
                ).update(status=Appointment.Status.BOOKED)
                if changed:
                    appointment.status = Appointment.Status.BOOKED
                    _replan(appointment)
                    booked.append(appointment)
            elif verdict.blockers:
                hold = appointment_hold(
                    appointment=appointment, verdict=verdict, source=source, batch=batch, notify=False
                )
                if hold is not None:
                    held.append(hold)
        if held:
            notify_on_commit(batch)
    return booked, held


def awaiting_release_for_client(*, client_id: int, source: str) -> tuple[list[Appointment], list[Hold]]:
    """awaiting_release for every session of the client awaiting a clearance from today on."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    appointments = list(
        Appointment.objects.filter(
            client_id=client_id, status=Appointment.Status.AWAITING_CLEARANCE, starts_at__gte=start
        )
        .select_related("client", "massage_type", "course")
        .order_by("starts_at", "pk")
    )
    return awaiting_release(appointments=appointments, source=source)


def gate_or_hold(*, appointment: Appointment, source: str, by=None) -> rules.Verdict:
    """The appointment's gate verdict; a booked one it no longer allows (a block or a missing clearance) is
    put on hold at once, the front desk and the client told."""
    verdict = gate.appointment_gate(appointment)
    if appointment.status in Appointment.BOOKABLE and stops(verdict):
        appointment_hold(appointment=appointment, verdict=verdict, source=source, by=by)
    return verdict
