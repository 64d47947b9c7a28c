"""Writes of the waiting list: putting a client on it and off it, and answering an offer. Of the clients
who accept one freed time at once exactly one gets it: the offered time's row is locked (SELECT ... FOR
UPDATE) by each acceptance in turn, the first books it through sessions.booking.services (whose
exclusion constraints stay the guarantee) and marks it filled, and the others find it filled and are
told so by email."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from parlor.models import MassageType, Masseur
from sessions.booking import services as booking
from sessions.models import Appointment, CallRequest, Course, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.online import services as online
from sessions.reminders import planning
from sessions.reminders import tasks as tasks_reminders
from sessions.waitlist import outbox, tasks

# What became of an acceptance (Acceptance.outcome).
ACCEPTED = "accepted"
TAKEN = "taken"
EXPIRED = "expired"
GONE = "gone"  # declined, withdrawn or the client left the list
REFUSED = "refused"  # the screening no longer allows it: the front desk calls

# Keys of the bookings acceptances make: one per offer, so a second press finds the first booking.
_BOOKING_KEYS = uuid.UUID("c1a5b6c2-4c33-4f55-8b4e-5f2d8e7a9d10")


def entry_add(
    *,
    client: Client,
    massage_type: MassageType,
    until: datetime.date,
    masseur: Masseur | None = None,
    weekdays: Sequence[int] = (),
    windows: Sequence[str] = (),
    course: Course | None = None,
    priority: bool = False,
    created_by=None,
) -> WaitlistEntry:
    """Put the client on the waiting list (by the front desk, or themselves online: `created_by` None).
    Offers go by email, so the client needs one; a manager's priority needs the manager's permission."""
    errors: dict[str, list[str]] = {}
    if not client.email or client.erased_at or client.data_consent_withdrawn_at:
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            _("Offers go by email: the client needs an email address on record.")
        )
    if until < timezone.localdate():
        errors.setdefault("until", []).append(_("This day has passed."))
    if masseur is not None and not masseur.qualifications.filter(pk=massage_type.pk).exists():
        errors.setdefault("masseur", []).append(
            _("%(masseur)s does not do this massage.") % {"masseur": masseur.display_name}
        )
    if course is not None and (course.client_id != client.pk or course.massage_type_id != massage_type.pk):
        errors.setdefault("course", []).append(_("The course is of another client or massage type."))
    if priority and not (created_by is not None and created_by.has_perm("treatments.prioritise_waitlistentry")):
        raise PermissionDenied
    if errors:
        raise ValidationError(errors)
    entry = WaitlistEntry(
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        course=course,
        weekdays=sorted(set(weekdays)),
        windows=[w for w in WaitlistEntry.Window.values if w in set(windows)],
        until=until,
        priority=priority,
        created_by=created_by,
    )
    entry.full_clean()
    entry.save()
    return entry


def entry_cancel(*, entry: WaitlistEntry, by=None, client: Client | None = None) -> WaitlistEntry:
    """Take the entry off the list (the front desk, `by`; or the client themselves, `client`); its open
    offers are withdrawn. Twice changes nothing."""
    if client is not None and entry.client_id != client.pk:
        raise PermissionDenied
    if client is None and not (by is not None and by.has_perm("treatments.change_waitlistentry")):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        if WaitlistEntry.objects.filter(pk=entry.pk, state=WaitlistEntry.State.WAITING).update(
            state=WaitlistEntry.State.CANCELLED, closed_at=now
        ):
            WaitlistOffer.objects.filter(entry_id=entry.pk, state=WaitlistOffer.State.OPEN).update(
                state=WaitlistOffer.State.WITHDRAWN, answered_at=now
            )
    entry.refresh_from_db()
    return entry


def entry_prioritise(*, entry: WaitlistEntry, priority: bool, by) -> WaitlistEntry:
    """A manager puts a waiting client first (or back in line)."""
    if not by.has_perm("treatments.prioritise_waitlistentry"):
        raise PermissionDenied
    WaitlistEntry.objects.filter(pk=entry.pk).update(priority=priority)
    entry.refresh_from_db()
    return entry


# --- answering an offer ---------------------------------------------------------------------------


@dataclass
class Acceptance:
    outcome: str
    offer: WaitlistOffer
    appointment: Appointment | None = None


def offer_accept(*, offer: WaitlistOffer, now: datetime.datetime | None = None) -> Acceptance:
    """The client takes the offered time. The first of several to accept books it (as a session of the
    entry's course when it has one) and the others are told it is taken; an offer past its time, declined
    or withdrawn books nothing. Accepting twice returns the first booking."""
    now = now or timezone.now()
    with transaction.atomic():
        # The lock every acceptance of this time waits for, in turn.
        slot = WaitlistSlot.objects.select_for_update().get(pk=offer.slot_id)
        offer = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("entry__client", "entry__course", "slot__massage_type", "slot__masseur", "slot__room")
            .get(pk=offer.pk)
        )
        if offer.state == WaitlistOffer.State.ACCEPTED:
            return Acceptance(ACCEPTED, offer, offer.appointment)
        if offer.state == WaitlistOffer.State.TAKEN or slot.state == WaitlistSlot.State.FILLED:
            return Acceptance(TAKEN, offer)
        if offer.state == WaitlistOffer.State.EXPIRED or (
            offer.state == WaitlistOffer.State.OPEN and offer.expires_at <= now
        ):
            WaitlistOffer.objects.filter(pk=offer.pk, state=WaitlistOffer.State.OPEN).update(
                state=WaitlistOffer.State.EXPIRED
            )
            return Acceptance(EXPIRED, offer)
        if offer.state != WaitlistOffer.State.OPEN or slot.state != WaitlistSlot.State.OPEN:
            return Acceptance(GONE, offer)
        entry = offer.entry
        try:
            appointment = booking.appointment_book(
                client=entry.client,
                massage_type=slot.massage_type,
                masseur=slot.masseur,
                room=slot.room,
                starts_at=slot.starts_at,
                booked_by=None,
                course=entry.course,
                await_clearance=True,
                request_key=uuid.uuid5(_BOOKING_KEYS, str(offer.pk)),
                channel=Appointment.Channel.WAITLIST,
            )
        except ValidationError as exc:
            errors = set(getattr(exc, "error_dict", {}))
            if errors & {"masseur", "room", "starts_at"}:
                # Booked at the front desk meanwhile, or past: nobody gets it from the list.
                WaitlistSlot.objects.filter(pk=slot.pk, state=WaitlistSlot.State.OPEN).update(
                    state=WaitlistSlot.State.CLOSED, closed_at=now
                )
                outbox.tell_taken(slot, now=now)
                tasks.dispatch_on_commit()
                return Acceptance(TAKEN, offer)
            # The screening no longer allows it (or the client is busy then): the front desk calls.
            WaitlistOffer.objects.filter(pk=offer.pk).update(state=WaitlistOffer.State.WITHDRAWN, answered_at=now)
            online.call_request_create(
                client=entry.client,
                reason=CallRequest.Reason.OFFER_REFUSED,
                massage_type=slot.massage_type,
                wanted_at=slot.starts_at,
            )
            return Acceptance(REFUSED, offer)
        WaitlistOffer.objects.filter(pk=offer.pk).update(
            state=WaitlistOffer.State.ACCEPTED, answered_at=now, appointment=appointment
        )
        WaitlistSlot.objects.filter(pk=slot.pk).update(state=WaitlistSlot.State.FILLED, closed_at=now)
        WaitlistEntry.objects.filter(pk=entry.pk, state=WaitlistEntry.State.WAITING).update(
            state=WaitlistEntry.State.FILLED, closed_at=now
        )
        # The entry's other open offers (other times) are withdrawn: one time per entry.
        WaitlistOffer.objects.filter(entry_id=entry.pk, state=WaitlistOffer.State.OPEN).exclude(pk=offer.pk).update(
            state=WaitlistOffer.State.WITHDRAWN, answered_at=now
        )
        outbox.tell_taken(slot, now=now, except_offer=offer.pk)
        # appointment_book planned the reminders of a single session; the client also gets the "booked"
        # email with the calendar file (a course's session: the course's updated schedule).
        if entry.course_id:
            tasks_reminders.send_on_commit(planning.plan_course_changed(entry.course))
        else:
            tasks_reminders.send_on_commit(planning.plan_booked_by_client(appointment))
        tasks.dispatch_on_commit()
        offer.refresh_from_db()
    return Acceptance(ACCEPTED, offer, appointment)


def offer_decline(*, offer: WaitlistOffer, now: datetime.datetime | None = None) -> bool:
    """The client does not want this time: the next in line gets it at the next scan. The entry stays."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = WaitlistOffer.objects.filter(pk=offer.pk, state=WaitlistOffer.State.OPEN).update(
            state=WaitlistOffer.State.DECLINED, answered_at=now
        )
        if changed:
            transaction.on_commit(tasks.queue_scan)
    return bool(changed)
