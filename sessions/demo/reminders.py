"""Demo reminders in every state the reception's page shows: due, sent, failed, skipped and void.

Idempotent: each demo row has a fixed key, made with get_or_create, and an existing row is left alone.
The finished states (sent, failed, skipped, void) carry "demo:" keys: no worker ever sends them. The
due one uses the real key of the appointment's reminder, so the worker may send it, once, like any
real reminder, and planning never makes a second one for it.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from sessions.models import Appointment, Reminder, ReminderPolicy
from sessions.reminders import planning as reminders

Kind = Reminder.Kind
State = Reminder.State


def _ensure(*, key: str, appointment: Appointment, kind: str, state: str, due_at, **fields) -> Reminder:
    reminder, _created = Reminder.objects.get_or_create(
        key=key,
        defaults={
            "client_id": appointment.client_id,
            "appointment": appointment,
            "kind": kind,
            "state": state,
            "due_at": due_at,
            **fields,
        },
    )
    return reminder


@transaction.atomic
def seed() -> None:
    now = timezone.now()
    policy = ReminderPolicy.current()
    appointments = Appointment.objects.select_related("client").order_by("starts_at", "pk")
    past = list(appointments.filter(starts_at__lt=now)[:4])
    upcoming = list(
        appointments.filter(starts_at__gt=now, status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED])[:3]
    )
    day = datetime.timedelta(days=1)
    for appointment in past[:2]:
        due_at = appointment.starts_at - day
        _ensure(
            key=f"demo:{appointment.pk}:sent",
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            state=State.SENT,
            due_at=due_at,
            sent_at=due_at,
            attempts=1,
        )
    if len(past) > 2:
        appointment = past[2]
        _ensure(
            key=f"demo:{appointment.pk}:failed",
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            state=State.FAILED,
            due_at=appointment.starts_at - day,
            attempts=5,
            reason="550 5.1.1 mailbox unavailable (permanent failure)",
        )
    if len(past) > 3:
        appointment = past[3]
        _ensure(
            key=f"demo:{appointment.pk}:skipped",
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            state=State.SKIPPED,
            due_at=appointment.starts_at - day,
            reason=Reminder.Reason.NO_CONSENT,
        )
    if upcoming:
        appointment = upcoming[0]
        # The real reminder's key and time: the worker sends it at its time, once.
        _ensure(
            key=reminders.appointment_key(appointment, Kind.APPOINTMENT),
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            state=State.DUE,
            due_at=reminders.appointment_due_at(appointment.starts_at, offset_hours=policy.appointment_offset_hours),
        )
    if len(upcoming) > 1:
        appointment = upcoming[1]
        _ensure(
            key=f"demo:{appointment.pk}:void",
            appointment=appointment,
            kind=Kind.APPOINTMENT,
            state=State.VOID,
            due_at=appointment.starts_at - 2 * day,
            reason=Reminder.Reason.APPOINTMENT_MOVED,
        )
