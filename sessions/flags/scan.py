"""Flags before each appointment, raised in the background: on a new screening or clearance, and by
the beat scan at the checkpoints before each appointment (24 hours and 2 hours by default).

After the flags, the gate (sessions.booking.gate) decides: a booked appointment the verdict no longer
allows (a block or a missing clearance) goes on hold (sessions.booking.holds); a session awaiting a
clearance is booked once the verdict allows it, and flagged for the front desk 48 hours before.

Plain functions that tests call directly; sessions/flags/tasks.py wraps them in Celery tasks.
Exactly once comes from the database, not the broker: flags_raise_for is idempotent (a unique
key per change) and the hold is a conditional UPDATE, so a retried, duplicated or concurrent run
raises each flag once and sends one notice per hold.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from screening.models import Clearance
from sessions.booking import gate, holds
from sessions.flags.facts import ScanFacts, with_previous_session
from sessions.flags.services import _changes, flags_raise_for
from sessions.localtime import kyiv
from sessions.models import Appointment, Flag, Hold

logger = logging.getLogger(__name__)

# How long before the start each checkpoint runs; FLAG_SCAN_CHECKPOINT_HOURS overrides.
DEFAULT_CHECKPOINT_HOURS = (24, 2)
# The front desk hears this long before the first session still awaiting a doctor's clearance.
AWAITING_CHECKPOINT = datetime.timedelta(hours=48)
# The one marker the scan keeps: when the last scan finished. Lost (cache cleared, another
# process), the next scan sweeps every appointment within the widest checkpoint again;
# idempotency makes that only slower, never wrong.
LAST_SCAN_KEY = "sessions:flag-scan:last"
LAST_SCAN_TTL = 2 * 24 * 3600


def checkpoints() -> list[datetime.timedelta]:
    hours = getattr(settings, "FLAG_SCAN_CHECKPOINT_HOURS", DEFAULT_CHECKPOINT_HOURS)
    return sorted((datetime.timedelta(hours=h) for h in hours), reverse=True)


def reception_email() -> str:
    return holds.reception_email()


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


def appointment_hold(*, appointment: Appointment, verdict=None, source: str = "scan") -> bool:
    """Put a booked or confirmed appointment on hold and tell the front desk once; True when this call did it."""
    from sessions.booking.gate import appointment_gate

    verdict = verdict or appointment_gate(appointment)
    return holds.appointment_hold(appointment=appointment, verdict=verdict, source=source) is not None


def _first_awaiting(appointment: Appointment) -> bool:
    """Is it the first session of its course (or a single one) still awaiting a clearance?"""
    if appointment.course_id is None:
        return True
    return not Appointment.objects.filter(
        course_id=appointment.course_id,
        status=Appointment.Status.AWAITING_CLEARANCE,
        starts_at__lt=appointment.starts_at,
        starts_at__gte=_start_of_today(),
    ).exists()


def _awaited_flag(appointment: Appointment, *, now: datetime.datetime) -> Flag | None:
    """48 h before the first session still awaiting a clearance, a flag for the front desk (no health detail)."""
    if appointment.starts_at > now + AWAITING_CHECKPOINT or not _first_awaiting(appointment):
        return None
    flag, _created = Flag.objects.get_or_create(
        appointment=appointment,
        change_key="clearance-awaited",
        defaults={
            "kind": Flag.Kind.CLEARANCE_AWAITED,
            "severity": Flag.Severity.WARNING,
            "what_changed": _(
                "The doctor's clearance is still awaited and the session is in less than 48 hours: call the client."
            ),
        },
    )
    return flag


def flags_check(
    *, appointment: Appointment, source: str = "scan", batch: uuid.UUID | None = None, now=None
) -> CheckResult:
    """Raise the appointment's flags, then ask the gate: a booked appointment it no longer allows (a block
    or a missing clearance) goes on hold; one awaiting a clearance is booked once the verdict allows it, held
    when blocked, and flagged for the front desk 48 h before. Atomic, so a flag is never raised without its
    hold. With a `batch`, the caller tells the front desk once for all (notify_on_commit)."""
    if appointment.status not in Appointment.UPCOMING:
        return CheckResult(flags=[], held=False)
    now = now or timezone.now()
    held = False
    with transaction.atomic():
        flags = flags_raise_for(appointment=appointment)
        if appointment.status in Appointment.BOOKABLE:
            verdict = gate.appointment_gate(appointment)
            if holds.stops(verdict):
                hold = holds.appointment_hold(
                    appointment=appointment, verdict=verdict, source=source, batch=batch, notify=batch is None
                )
                held = hold is not None
        elif appointment.status == Appointment.Status.AWAITING_CLEARANCE:
            verdict = gate.appointment_gate(appointment)
            if verdict.is_bookable:
                holds.awaiting_release(appointments=[appointment], source=source)
            elif verdict.blockers:
                hold = holds.appointment_hold(
                    appointment=appointment, verdict=verdict, source=source, batch=batch, notify=batch is None
                )
                held = hold is not None
            else:
                awaited = _awaited_flag(appointment, now=now)
                if awaited is not None and awaited not in flags:
                    flags.append(awaited)
    return CheckResult(flags=flags, held=held)


def appointment_flags_check(*, appointment_id: int) -> CheckResult | None:
    """flags_check by id, for the task; None when the appointment is gone."""
    appointment = (
        Appointment.objects.select_related("client", "massage_type", "course").filter(pk=appointment_id).first()
    )
    if appointment is None:
        logger.info("flags check: appointment %s is gone", appointment_id)
        return None
    return flags_check(appointment=appointment)


def client_flags_check(*, client_id: int, source: str) -> list[CheckResult]:
    """flags_check for every upcoming appointment of the client, as one: the sessions of a course held by the
    same change make one notice to the front desk and one message to the client."""
    batch = uuid.uuid4()
    appointments = (
        Appointment.objects.filter(pk__in=upcoming_appointment_ids(client_id=client_id))
        .select_related("client", "massage_type", "course")
        .order_by("starts_at", "pk")
    )
    results = [flags_check(appointment=a, source=source, batch=batch) for a in appointments]
    if any(r.held for r in results):
        holds.notify_on_commit(batch)
    return results


# --- the hold email (kept for callers of the old name) ---------------------------------------------


def hold_email_send(*, appointment_id: int) -> bool:
    """Tell the front desk about the appointment's open hold (its whole batch), once."""
    hold = Hold.objects.filter(appointment_id=appointment_id, released_at__isnull=True).first()
    return hold is not None and holds.hold_notice_send(batch=hold.batch)


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
    # Sessions awaiting a clearance: 48 h before, for the front desk's flag; and any, once a clearance
    # was added since (its event may have been lost), to be booked by themselves.
    awaiting = Q(status=Appointment.Status.AWAITING_CLEARANCE, starts_at__lte=now + AWAITING_CHECKPOINT)
    if since is not None:
        awaiting &= Q(starts_at__gt=since + AWAITING_CHECKPOINT)
    added = Clearance.objects.filter(created_at__gte=since) if since is not None else Clearance.objects.all()
    awaiting |= Q(status=Appointment.Status.AWAITING_CLEARANCE, client_id__in=added.values("client_id"))
    return due | Q(client_id__in=expired) | awaiting


def due_appointments(*, now: datetime.datetime, since: datetime.datetime | None) -> list[Appointment]:
    """Upcoming appointments due for a check, soonest first, each with the start of its client's previous
    completed session (`previous_at`). One query."""
    due = Appointment.objects.filter(
        _due_query(now=now, since=since), status__in=Appointment.UPCOMING, starts_at__gt=now
    )
    return list(
        with_previous_session(due)
        .select_related("client", "massage_type", "course")
        # Parsed on every load (phonenumbers) and never used here.
        .defer("client__phone", "client__guardian_phone")
        .order_by("starts_at", "pk")
    )


# flag_scan's default `since`: when the last scan finished. None means "no last scan: sweep everything".
LAST_SCAN = object()


def flag_scan(now: datetime.datetime | None = None, since: datetime.datetime | None | object = LAST_SCAN) -> ScanResult:
    """Check every appointment that reached a checkpoint since the last scan (`since`; by default when
    the last scan finished), as flags_check would one by one, but as a set: what the rules judge is read
    for all of them at once (sessions.flags.facts), the new flags go in one INSERT and only what changes
    a status (a hold, a release) is written per appointment. Safe to run twice or concurrently: each flag
    once, one hold email."""
    now = now or timezone.now()
    if since is LAST_SCAN:
        since = cache.get(LAST_SCAN_KEY)
    appointments = due_appointments(now=now, since=since)
    facts = ScanFacts.load(appointments)
    new_flags: list[Flag] = []
    to_hold: list[tuple[Appointment, object]] = []
    to_release: list[Appointment] = []
    awaited: list[Appointment] = []
    for appointment in appointments:
        baseline = facts.baseline(appointment)
        changes = _changes(
            appointment=appointment,
            baseline=baseline,
            clearances=facts.relevant_clearances(appointment, baseline),
            course=facts.course(appointment),
        )
        new_flags += [Flag(appointment=appointment, change_key=c.pop("change_key"), **c) for c in changes]
        if appointment.status not in Appointment.BOOKABLE + (Appointment.Status.AWAITING_CLEARANCE,):
            continue
        verdict = facts.verdict(appointment, latest=baseline.latest)
        if appointment.status in Appointment.BOOKABLE:
            if holds.stops(verdict):
                to_hold.append((appointment, verdict))
        elif verdict.is_bookable:
            to_release.append(appointment)
        elif verdict.blockers:
            to_hold.append((appointment, verdict))
        else:
            awaited.append(appointment)
    flags = len(new_flags)
    held = 0
    # One batch per client: the sessions of a course held in one pass make one notice.
    batches: dict[int, uuid.UUID] = {}
    held_batches: set[uuid.UUID] = set()
    # A flag is never raised without its hold.
    with transaction.atomic():
        # Raised before by the review page or another scan: the unique key keeps the first.
        Flag.objects.bulk_create(new_flags, ignore_conflicts=True)
        for appointment in to_release:
            holds.awaiting_release(appointments=[appointment], source="scan")
        for appointment, verdict in to_hold:
            batch = batches.setdefault(appointment.client_id, uuid.uuid4())
            hold = holds.appointment_hold(
                appointment=appointment, verdict=verdict, source="scan", batch=batch, notify=False
            )
            if hold is not None:
                held += 1
                held_batches.add(batch)
        for appointment in awaited:
            flags += _awaited_flag(appointment, now=now) is not None
    for batch in held_batches:
        holds.notify_on_commit(batch)
    # Only after the whole pass: a scan that died half way is redone by the next one.
    cache.set(LAST_SCAN_KEY, now, LAST_SCAN_TTL)
    return ScanResult(checked=len(appointments), flags=flags, held=held)
