"""Writes of online booking. Every appointment is made, moved and cancelled by sessions.booking.services,
so every rule of the front desk applies; what is online's own: the 10-minute hold of the chosen time
(RESERVED, live under the exclusion constraints), the screening's say when the client confirms, the
limit of unconfirmed bookings, and the front desk's call when the screening blocks."""

import datetime
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.models import Client
from parlor.contacts import parlor_contacts
from parlor.models import MassageType, Masseur
from screening import rules
from sessions.booking import availability, freed, gate, locks, services
from sessions.booking.holds import reception_email
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, CallRequest, Course, OnlinePolicy, ReminderPolicy
from sessions.online import selectors
from sessions.reminders import client_actions, planning
from sessions.reminders import tasks as tasks_reminders

logger = logging.getLogger(__name__)

HOLD = datetime.timedelta(minutes=10)

# What became of a confirmation (Confirmation.outcome).
BOOKED = "booked"
AWAITING = "awaiting_clearance"
BLOCKED = "blocked"
NEEDS_SCREENING = "needs_screening"
EXPIRED = "expired"

# ValidationError codes the pages turn into their own texts.
TAKEN = "taken"
TOO_MANY = "too_many"
TOO_LATE = client_actions.TOO_LATE


def _refusal(message: str, code: str) -> ValidationError:
    # The code on the message itself: a dict's own code never reaches the messages inside it.
    return ValidationError({NON_FIELD_ERRORS: ValidationError(message, code=code)})


def _taken() -> ValidationError:
    return _refusal(_("Someone has just taken this time."), TAKEN)


# --- holding the chosen time ------------------------------------------------------------------------


def _release(appointments: list[Appointment], *, why: str) -> int:
    """Delete held times (and a course they were all of): a hold that never became a booking is no
    booking. The deletion stays in the appointment's change history; the waiting list hears of the time."""
    if not appointments:
        return 0
    course_ids = {a.course_id for a in appointments if a.course_id}
    for appointment in appointments:
        freed.notify_on_commit(
            masseur_id=appointment.masseur_id,
            room_id=appointment.room_id,
            starts_at=appointment.starts_at,
            blocks_until=appointment.blocks_until,
            why=why,
        )
    Appointment.objects.filter(pk__in=[a.pk for a in appointments], status=Appointment.Status.RESERVED).delete()
    Course.objects.filter(pk__in=course_ids, appointments__isnull=True).delete()
    return len(appointments)


def _held_times(client: Client) -> list[tuple[int, datetime.datetime, datetime.datetime]]:
    """(pk, starts_at, blocks_until) of the client's holds, read without a row lock: what to lock first."""
    return list(
        Appointment.objects.filter(client=client, status=Appointment.Status.RESERVED).values_list(
            "pk", "starts_at", "blocks_until"
        )
    )


def _lock_before_release(
    *,
    client: Client,
    held: list[tuple[int, datetime.datetime, datetime.datetime]],
    times: Iterable[tuple[int, int, datetime.datetime, datetime.datetime]],
) -> None:
    """Take, in one request, the booking locks of every (masseur id, room id, starts_at, blocks_until) the
    new hold may be booked at and the client's own on each day of the holds it replaces, before those are
    row-locked and deleted (see sessions.booking.locks): a booking holding one of these locks may be about
    to wait for those rows (its insert's exclusion or foreign-key check), so this must not wait for its
    lock after touching them. appointment_book and course_book ask again for the keys of the times they
    book, held by then: after this request nothing here waits for a booking lock, so a hold made since
    `held` was read, freed too without its day's key, cannot close a cycle either."""
    keys = set()
    for _pk, starts_at, blocks_until in held:
        keys |= locks.client_keys(client_id=client.pk, starts_at=starts_at, blocks_until=blocks_until)
    for masseur_id, room_id, starts_at, blocks_until in times:
        keys |= locks.slot_keys(
            masseur_id=masseur_id, room_id=room_id, client_id=client.pk, starts_at=starts_at, blocks_until=blocks_until
        )
    locks.lock(keys)


def _check_limit(client: Client, now: datetime.datetime) -> None:
    limit = OnlinePolicy.current().max_unconfirmed
    if selectors.unconfirmed_online(client=client, now=now) >= limit:
        raise _refusal(
            _(
                "You already have %(count)s online bookings waiting for your confirmation. Confirm them "
                "by the link in our reminder, or call us, before booking more."
            )
            % {"count": limit},
            TOO_MANY,
        )


def _too_soon(starts_at: datetime.datetime, now: datetime.datetime) -> bool:
    return starts_at < now + selectors.MIN_NOTICE


def reservation_make(
    *,
    client: Client,
    massage_type: MassageType,
    starts_at: datetime.datetime,
    masseur: Masseur | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """Hold `starts_at` for the client for HOLD (with `masseur`, or the first one free then), under every
    booking rule but the screening's; it replaces any time the client held before. Of clients racing for
    one time, one gets it; the others a ValidationError with code "taken". At most the manager's number
    of unconfirmed online bookings (code "too_many")."""
    now = now or timezone.now()
    if _too_soon(starts_at, now):
        raise _taken()
    with transaction.atomic():
        before = _held_times(client)
        day = local_date(starts_at)
        slots = [
            slot
            for slot in availability.free_slots(
                massage_type=massage_type,
                start_date=day,
                end_date=day,
                masseur=masseur,
                now=now,
                # As they will be once released below: the new time may overlap the one it replaces.
                exclude_appointment_pks=[pk for pk, _starts_at, _blocks_until in before],
            )
            if slot.starts_at == starts_at
        ]
        # Every candidate's keys, not only the first one's: a later one's may be below them.
        _lock_before_release(
            client=client,
            held=before,
            times=[(slot.masseur.pk, room.pk, starts_at, slot.blocks_until) for slot in slots for room in slot.rooms],
        )
        mine = list(Appointment.objects.select_for_update().filter(client=client, status=Appointment.Status.RESERVED))
        for held in mine:
            same = held.starts_at == starts_at and held.massage_type_id == massage_type.pk and held.course_id is None
            if same and len(mine) == 1 and held.reserved_until > now and masseur in (None, held.masseur):
                return held  # the same choice again (a second press): the hold already made
        _release(mine, why="replaced")
        _check_limit(client, now)
        for slot in slots:
            for room in slot.rooms:
                try:
                    return services.appointment_book(
                        client=client,
                        massage_type=massage_type,
                        masseur=slot.masseur,
                        room=room,
                        starts_at=starts_at,
                        booked_by=None,
                        reserve_until=now + HOLD,
                        channel=Appointment.Channel.ONLINE,
                    )
                except ValidationError as exc:
                    errors = getattr(exc, "error_dict", {})
                    if "client" in errors:
                        raise _refusal(_("You already have an appointment at this time."), "busy") from exc
                    if "masseur" in errors:
                        break  # the masseur was taken meanwhile: the next masseur, not the next room
    raise _taken()


def course_reservation_make(
    *,
    client: Client,
    massage_type: MassageType,
    start_date: datetime.date,
    masseur: Masseur | None = None,
    preferred_time: datetime.time | None = None,
    now: datetime.datetime | None = None,
) -> Course:
    """Hold a whole course for HOLD: the massage type's usual number of sessions and cadence, the schedule
    proposed from the free times, all sessions or none (code "taken" when one is no longer free)."""
    now = now or timezone.now()
    if massage_type.course_sessions < 1:
        raise _refusal(_("This massage is not booked online as a course."), "no_course")
    with transaction.atomic():
        before = _held_times(client)
        proposal = course_proposal(
            client=client,
            massage_type=massage_type,
            start_date=start_date,
            masseur=masseur,
            preferred_time=preferred_time,
            # As they will be once released below: the new course may overlap the holds it replaces.
            exclude_appointment_pks=[pk for pk, _starts_at, _blocks_until in before],
        )
        bookable = bool(proposal) and all(p.is_bookable for p in proposal) and not _too_soon(proposal[0].starts_at, now)
        span = datetime.timedelta(minutes=massage_type.duration_minutes + massage_type.buffer_minutes)
        _lock_before_release(
            client=client,
            held=before,
            times=[(p.masseur.pk, p.room.pk, p.starts_at, p.starts_at + span) for p in proposal] if bookable else [],
        )
        mine = list(Appointment.objects.select_for_update().filter(client=client, status=Appointment.Status.RESERVED))
        _release(mine, why="replaced")
        _check_limit(client, now)
        if not bookable:
            raise _taken()
        try:
            return services.course_book(
                client=client,
                massage_type=massage_type,
                # The masseur learns why at the first session; the page asks nothing about health.
                indication=Course.Indication.OTHER,
                planned_sessions=len(proposal),
                cadence=massage_type.course_cadence,
                preferred_masseur=masseur,
                preferred_time=preferred_time,
                sessions=[(p.starts_at, p.masseur, p.room) for p in proposal],
                booked_by=None,
                reserve_until=now + HOLD,
                channel=Appointment.Channel.ONLINE,
            )
        except ValidationError as exc:
            raise _taken() from exc


def course_proposal(
    *,
    client: Client | None,
    massage_type: MassageType,
    start_date: datetime.date,
    masseur: Masseur | None = None,
    preferred_time: datetime.time | None = None,
    exclude_appointment_pks: Collection[int] = (),
) -> list[services.ProposedSession]:
    """The course the front desk would propose: the type's usual count and cadence. Eight queries."""
    try:
        return services.course_propose(
            client=client,
            massage_type=massage_type,
            start_date=start_date,
            planned_sessions=massage_type.course_sessions,
            cadence=massage_type.course_cadence,
            masseur=masseur,
            preferred_time=preferred_time,
            exclude_appointment_pks=exclude_appointment_pks,
        )
    except ValidationError:
        return []


def reservation_release(*, client: Client) -> int:
    """The client gave up the time they held."""
    with transaction.atomic():
        mine = list(Appointment.objects.select_for_update().filter(client=client, status=Appointment.Status.RESERVED))
        return _release(mine, why="given_up")


def reservations_expire(*, now: datetime.datetime | None = None) -> int:
    """Free every hold past its time; safe beside a confirmation (the rows it locks are skipped, and a
    confirmation refuses a hold past its time) and beside itself."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            Appointment.objects.select_for_update(skip_locked=True).filter(
                status=Appointment.Status.RESERVED, reserved_until__lte=now
            )
        )
        return _release(expired, why="hold_expired")


# --- the screening's say ----------------------------------------------------------------------------


@dataclass
class Confirmation:
    outcome: str
    appointments: list[Appointment] = field(default_factory=list)
    course: Course | None = None
    call: CallRequest | None = None


def reservation_verdicts(appointments: list[Appointment]) -> list[rules.Verdict]:
    """The gate's verdict for each held time, a course's sessions judged as a course."""
    course = appointments[0].course if appointments and appointments[0].course_id else None
    facts = gate.facts_of_course(course) if course is not None else None
    return [gate.raw_verdict(appointment, course=facts) for appointment in appointments]


def outcome_of(verdicts: list[rules.Verdict]) -> str:
    """What the verdicts let the client do: book, reserve awaiting a clearance, answer the questionnaire
    first, or nothing (blocked)."""
    statuses = {verdict.status for verdict in verdicts}
    if rules.Status.BLOCKED in statuses:
        return BLOCKED
    if rules.Status.NEEDS_SCREENING in statuses:
        return NEEDS_SCREENING
    if rules.Status.NEEDS_CLEARANCE in statuses:
        return AWAITING
    return BOOKED


def reservation_confirm(*, client: Client, now: datetime.datetime | None = None) -> Confirmation:
    """Turn the client's held time (or course) into a booking as the screening says, with the front desk's
    own verdict: allowed or adapted, booked; needing a doctor's clearance, booked awaiting it; needing a
    screening, nothing changes (the questionnaire first); blocked, no booking, the hold is freed and the
    front desk gets a call to make (no health detail). A hold past its time: EXPIRED."""
    now = now or timezone.now()
    with transaction.atomic():
        held = list(
            Appointment.objects.select_for_update(of=("self",))
            .select_related("client", "massage_type", "masseur", "course")
            .filter(client=client, status=Appointment.Status.RESERVED)
            .order_by("starts_at", "pk")
        )
        if not held:
            return Confirmation(EXPIRED)
        if any(appointment.reserved_until <= now for appointment in held):
            _release(held, why="hold_expired")
            return Confirmation(EXPIRED)
        course = held[0].course
        verdicts = reservation_verdicts(held)
        outcome = outcome_of(verdicts)
        if outcome == NEEDS_SCREENING:
            return Confirmation(NEEDS_SCREENING, held, course)
        if outcome == BLOCKED:
            call = call_request_create(
                client=client,
                reason=CallRequest.Reason.SCREENING_BLOCKS,
                massage_type=held[0].massage_type,
                wanted_at=held[0].starts_at,
            )
            _release(held, why="blocked")
            return Confirmation(BLOCKED, [], None, call)
        for appointment, verdict in zip(held, verdicts, strict=True):
            status = Appointment.Status.BOOKED if verdict.is_bookable else Appointment.Status.AWAITING_CLEARANCE
            Appointment.objects.filter(pk=appointment.pk, status=Appointment.Status.RESERVED).update(
                status=status, reserved_until=None
            )
            appointment.status, appointment.reserved_until = status, None
        if course is not None:
            tasks_reminders.send_on_commit(planning.plan_course_booked(course))
        else:
            tasks_reminders.send_on_commit(planning.plan_booked_by_client(held[0]))
    return Confirmation(outcome, held, course)


# --- the front desk's calls -------------------------------------------------------------------------


def call_request_create(*, client: Client, reason: str, massage_type: MassageType, wanted_at) -> CallRequest:
    """A call for the front desk to make, and one email to tell them after the commit; no health detail.
    A client who tries again before the call is made adds no second call (nor email)."""
    waiting = CallRequest.objects.filter(client=client, reason=reason, done_at__isnull=True).first()
    if waiting is not None:
        return waiting
    call = CallRequest.objects.create(client=client, reason=reason, massage_type=massage_type, wanted_at=wanted_at)
    transaction.on_commit(lambda: call_notice_send(call_id=call.pk))
    return call


def call_notice(*, call: CallRequest) -> EmailMultiAlternatives:
    """The front desk's email: call whom, at which phone, about what time; never a health detail."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(kyiv()):
        context = {
            "client_name": call.client.full_name,
            "client_phone": call.client.phone,
            "client_email": call.client.email,
            "massage_type": call.massage_type.name,
            "wanted_at": call.wanted_at,
            "what_to_do": call.get_reason_display(),
            "parlor_name": parlor_contacts().name,
        }
        subject = " ".join(render_to_string("emails/call-request-subject.txt", context).split())
        text = render_to_string("emails/call-request-body.txt", context)
        html = render_to_string("emails/call-request-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [reception_email()])
    message.attach_alternative(html, "text/html")
    return message


def call_notice_send(*, call_id: int) -> bool:
    """Email the front desk once (a conditional UPDATE claims the call); a mail server that is down never
    loses the call: the dashboard lists it anyway."""
    if not CallRequest.objects.filter(pk=call_id, notified_at__isnull=True).update(notified_at=timezone.now()):
        return False
    call = CallRequest.objects.select_related("client", "massage_type").get(pk=call_id)
    try:
        call_notice(call=call).send()
    except Exception:  # noqa: BLE001
        logger.exception("could not email the front desk about call request %s", call_id)
        return False
    return True


def call_request_done(*, call: CallRequest, by) -> CallRequest:
    """The front desk called the client; twice changes nothing."""
    if not by.has_perm("treatments.change_callrequest"):
        raise PermissionDenied
    CallRequest.objects.filter(pk=call.pk, done_at__isnull=True).update(done_at=timezone.now(), done_by=by)
    call.refresh_from_db()
    return call


# --- the client's own appointments ------------------------------------------------------------------


def _own(client: Client, appointment: Appointment) -> None:
    if appointment.client_id != client.pk:
        raise PermissionDenied


def can_change(appointment: Appointment, *, now: datetime.datetime, policy: ReminderPolicy) -> bool:
    """May the client still move or cancel it online? Until the reminder policy's cut-off before the start;
    never one on hold (the parlor calls)."""
    return appointment.status in (
        Appointment.Status.BOOKED,
        Appointment.Status.CONFIRMED,
        Appointment.Status.AWAITING_CLEARANCE,
    ) and client_actions.can_cancel_by_link(appointment=appointment, now=now, policy=policy)


def appointment_cancel_online(
    *, client: Client, appointment: Appointment, now: datetime.datetime | None = None
) -> Appointment:
    """The signed-in client cancels their own appointment until the cut-off (code "too_late" after it);
    twice changes nothing."""
    _own(client, appointment)
    now = now or timezone.now()
    if appointment.status == Appointment.Status.CANCELLED:
        return appointment
    if not can_change(appointment, now=now, policy=ReminderPolicy.current()):
        raise ValidationError(_("It is too late to cancel online; please call the parlor."), code=TOO_LATE)
    return services.appointment_cancel(appointment=appointment, reason=Appointment.CANCELLED_ONLINE, by=None)


def appointment_move_online(
    *,
    client: Client,
    appointment: Appointment,
    starts_at: datetime.datetime,
    masseur: Masseur | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """The signed-in client moves their own appointment to a free time until the cut-off, with `masseur`
    (None: its own masseur when free then, else another), its own room when free; every booking rule
    applies (code "taken" when the time is not free, "too_late" after the cut-off)."""
    _own(client, appointment)
    now = now or timezone.now()
    if not can_change(appointment, now=now, policy=ReminderPolicy.current()):
        raise ValidationError(_("It is too late to move it online; please call the parlor."), code=TOO_LATE)
    if _too_soon(starts_at, now):
        raise _taken()
    day = local_date(starts_at)
    slots = [
        slot
        for slot in availability.free_slots(
            massage_type=appointment.massage_type, start_date=day, end_date=day, masseur=masseur, now=now
        )
        if slot.starts_at == starts_at
    ]
    # Its own masseur first, its own room first.
    slots.sort(key=lambda slot: slot.masseur.pk != appointment.masseur_id)
    for slot in slots:
        rooms = sorted(slot.rooms, key=lambda room: room.pk != appointment.room_id)
        try:
            return services.appointment_move(
                appointment=appointment, starts_at=starts_at, masseur=slot.masseur, room=rooms[0], moved_by=None
            ).appointment
        except ValidationError as exc:
            if set(getattr(exc, "error_dict", {})) & {"masseur", "room"}:
                continue
            raise _refusal(
                _("This time cannot be booked online; please choose another or call us."), "refused"
            ) from exc
    raise _taken()


# --- the manager's settings -------------------------------------------------------------------------

POLICY_FIELDS = [
    "max_unconfirmed",
    "sign_ins_per_email",
    "sign_ins_per_network_address",
    "offer_minutes",
    "offers_at_once",
    "offer_notice_minutes",
    "waitlist_horizon_days",
]


def online_policy_update(*, policy: OnlinePolicy, by, **values) -> OnlinePolicy:
    """The manager's settings (the one row); the validators give the bounds and their messages."""
    if not by.has_perm("treatments.change_onlinepolicy"):
        raise PermissionDenied
    with transaction.atomic():
        policy = OnlinePolicy.objects.select_for_update().get(pk=policy.pk)
        for name in POLICY_FIELDS:
            if name in values:
                setattr(policy, name, values[name])
        policy.full_clean()
        policy.save()
    return policy
