"""Flags before each appointment, raised in the background: on a new screening or clearance, and by
the beat scan at the checkpoints before each appointment (24 hours and 2 hours by default).

Plain functions that tests call directly; sessions/tasks_flags.py wraps them in Celery tasks.
Exactly once comes from the database, not the broker: flags_raise_for is idempotent (a unique
key per change) and the hold is a conditional UPDATE, so a retried, duplicated or concurrent run
raises each flag once and sends one hold email.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from screening.models import Clearance
from sessions.flags.services import flags_raise_for
from sessions.localtime import kyiv
from sessions.models import Appointment, Flag

logger = logging.getLogger(__name__)

# How long before the start each checkpoint runs; FLAG_SCAN_CHECKPOINT_HOURS overrides.
DEFAULT_CHECKPOINT_HOURS = (24, 2)
# Only these go on hold: a checked-in, completed or cancelled appointment is past deciding.
HOLDABLE = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
# The one marker the scan keeps: when the last scan finished. Lost (cache cleared, another
# process), the next scan sweeps every appointment within the widest checkpoint again;
# idempotency makes that only slower, never wrong.
LAST_SCAN_KEY = "sessions:flag-scan:last"
LAST_SCAN_TTL = 2 * 24 * 3600


def checkpoints() -> list[datetime.timedelta]:
    hours = getattr(settings, "FLAG_SCAN_CHECKPOINT_HOURS", DEFAULT_CHECKPOINT_HOURS)
    return sorted((datetime.timedelta(hours=h) for h in hours), reverse=True)


def reception_email() -> str:
    return getattr(settings, "RECEPTION_EMAIL", settings.DEFAULT_FROM_EMAIL)


def blocks(flag: Flag) -> bool:
    """A newly present absolute contraindication: the one change that stops the appointment by itself.
    A worsened kind or an expired clearance may still be bookable (with a clearance); the verdict decides."""
    return flag.kind == Flag.Kind.ADDED and flag.severity == Flag.Severity.CRITICAL and flag.is_open


def _start_of_today() -> datetime.datetime:
    return datetime.datetime.combine(timezone.localdate(), datetime.time.min, tzinfo=kyiv())


def upcoming_appointment_ids(*, client_id: int) -> list[int]:
    """The client's appointments from today on that may still take place. One query."""
    return list(
        Appointment.objects.filter(
            client_id=client_id, status__in=Appointment.UPCOMING, starts_at__gte=_start_of_today()
        )
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )


# --- one appointment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    flags: list[Flag]
    held: bool


def appointment_hold(*, appointment: Appointment) -> bool:
    """Put a booked or confirmed appointment on hold and tell the reception once; True when this call did it.
    The conditional UPDATE is the once: of two concurrent callers only one changes the row."""
    changed = Appointment.objects.filter(pk=appointment.pk, status__in=HOLDABLE).update(
        status=Appointment.Status.ON_HOLD
    )
    if not changed:
        return False
    appointment.status = Appointment.Status.ON_HOLD
    appointment_id = appointment.pk
    transaction.on_commit(lambda: hold_email_send(appointment_id=appointment_id))
    return True


def flags_check(*, appointment: Appointment) -> CheckResult:
    """Raise the appointment's flags; a newly present absolute contraindication puts it on hold.
    Atomic, so a flag is never raised without its hold. About six queries when nothing changed,
    plus one or two per change."""
    if appointment.status not in Appointment.UPCOMING:
        return CheckResult(flags=[], held=False)
    with transaction.atomic():
        flags = flags_raise_for(appointment=appointment)
        held = any(blocks(flag) for flag in flags) and appointment_hold(appointment=appointment)
    return CheckResult(flags=flags, held=held)


def appointment_flags_check(*, appointment_id: int) -> CheckResult | None:
    """flags_check by id, for the task; None when the appointment is gone."""
    appointment = Appointment.objects.select_related("client").filter(pk=appointment_id).first()
    if appointment is None:
        logger.info("flags check: appointment %s is gone", appointment_id)
        return None
    return flags_check(appointment=appointment)


# --- the hold email ---------------------------------------------------------------------------------


def hold_email(*, appointment: Appointment) -> EmailMultiAlternatives:
    """The note to the reception: who and when, never what is in the record."""
    context = {
        "appointment": appointment,
        "client_name": appointment.client.full_name,
        "client_phone": appointment.client.phone,
        "masseur_name": appointment.masseur.display_name,
        "starts_at": timezone.localtime(appointment.starts_at, kyiv()),
        "parlor_name": settings.PARLOR_NAME,
    }
    # The reception works in the parlor's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("emails/flag-hold-subject.txt", context).split())
        text = render_to_string("emails/flag-hold-body.txt", context)
        html = render_to_string("emails/flag-hold-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [reception_email()])
    message.attach_alternative(html, "text/html")
    return message


def hold_email_send(*, appointment_id: int) -> bool:
    """Send the hold email; a mail server that is down never undoes the hold, which the reception
    also sees on the dashboard. Runs after the hold commits."""
    appointment = Appointment.objects.select_related("client", "masseur").filter(pk=appointment_id).first()
    if appointment is None:
        return False
    try:
        hold_email(appointment=appointment).send()
    except Exception:
        logger.exception("could not email the reception about the hold of appointment %s", appointment_id)
        return False
    return True


# --- the scan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    checked: int
    flags: int
    held: int


def _due_query(*, now: datetime.datetime, since: datetime.datetime | None) -> Q:
    """Appointments that passed a checkpoint since the last scan, and those of clients whose clearance
    expired since then. No last scan: every appointment within the widest checkpoint."""
    due = Q()
    for checkpoint in checkpoints():
        window = Q(starts_at__lte=now + checkpoint)
        if since is not None:
            window &= Q(starts_at__gt=since + checkpoint)
        due |= window
    # A clearance is valid through valid_until: it expired at the start of the next day.
    today = timezone.localdate(now)
    expired_from = timezone.localdate(since) - datetime.timedelta(days=1) if since else today - datetime.timedelta(1)
    expired = Clearance.objects.filter(valid_until__gte=expired_from, valid_until__lt=today).values("client_id")
    return due | Q(client_id__in=expired)


def due_appointments(*, now: datetime.datetime, since: datetime.datetime | None) -> list[Appointment]:
    """Upcoming appointments due for a check, soonest first. One query."""
    return list(
        Appointment.objects.filter(_due_query(now=now, since=since), status__in=Appointment.UPCOMING, starts_at__gt=now)
        .select_related("client")
        .order_by("starts_at", "pk")
    )


# flag_scan's default `since`: when the last scan finished. None means "no last scan: sweep everything".
LAST_SCAN = object()


def flag_scan(now: datetime.datetime | None = None, since: datetime.datetime | None | object = LAST_SCAN) -> ScanResult:
    """Check every appointment that reached a checkpoint since the last scan (`since`; by default when
    the last scan finished). Safe to run twice or concurrently: each flag once, one hold email."""
    now = now or timezone.now()
    if since is LAST_SCAN:
        since = cache.get(LAST_SCAN_KEY)
    checked = flags = held = 0
    for appointment in due_appointments(now=now, since=since):
        result = flags_check(appointment=appointment)
        checked += 1
        flags += len(result.flags)
        held += result.held
    # Only after the whole pass: a scan that died half way is redone by the next one.
    cache.set(LAST_SCAN_KEY, now, LAST_SCAN_TTL)
    return ScanResult(checked=checked, flags=flags, held=held)
