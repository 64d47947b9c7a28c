"""The scan: which waiting clients get which free time. It reads the free times from the front desk's
availability (every rule, holidays and closed days included), so it finds whatever freed them: a
cancellation, a move, a no-show marked early, time off reassigned, an online hold that ran out. The
booking services ask for a scan after each of those commits (sessions.booking.freed); beat runs it
every minute as well, so nothing is lost while the worker or Redis is down.

Order of the line: a manager's priority first, then clients with a course, then the longest waiting.
Each time is offered to at most `offers_at_once` clients at once (the first to accept gets it, see
services.offer_accept); an offer expires after `offer_minutes` and the next in line gets the time.
A client is offered only what the screening allows them (allowed or adapted), never the same time
twice, and one time at a time."""

import datetime
import logging
from collections import Counter, defaultdict

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from parlor.models import TimeOff
from screening.selectors import verdict_for
from sessions.booking import availability, gate
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, OnlinePolicy, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.waitlist import outbox

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock's key: one scan at a time, a second one returns at once.
_SCAN_LOCK = 0x5741_4954_4C53  # "WAITLS"


def waitlist_scan(*, now: datetime.datetime | None = None) -> Counter:
    """Expire what is past its time, close offered times no longer free, offer free times to the best
    fits, then send the emails that are due. Safe to run twice at once (the second does nothing)."""
    now = now or timezone.now()
    outcome = Counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SCAN_LOCK])
            if not cursor.fetchone()[0]:
                return outcome
        policy = OnlinePolicy.current()
        outcome["expired"] = offers_expire(now=now)
        outcome["entries_expired"] = entries_expire(now=now)
        outcome["closed"] = slots_close(now=now, policy=policy)
        outcome["offered"] = offers_make(now=now, policy=policy)
        outcome["closed"] += slots_close_unanswered(now=now)
    outcome.update(outbox.dispatch(now=now))
    return outcome


def offers_expire(*, now: datetime.datetime) -> int:
    return WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN, expires_at__lte=now).update(
        state=WaitlistOffer.State.EXPIRED
    )


def entries_expire(*, now: datetime.datetime) -> int:
    today = local_date(now)
    ids = list(
        WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING, until__lt=today).values_list("pk", flat=True)
    )
    WaitlistOffer.objects.filter(entry_id__in=ids, state=WaitlistOffer.State.OPEN).update(
        state=WaitlistOffer.State.WITHDRAWN, answered_at=now
    )
    return WaitlistEntry.objects.filter(pk__in=ids).update(state=WaitlistEntry.State.EXPIRED, closed_at=now)


def _still_free(slot: WaitlistSlot) -> bool:
    clash = (
        Appointment.objects.filter(Q(masseur_id=slot.masseur_id) | Q(room_id=slot.room_id))
        .filter(starts_at__lt=slot.blocks_until, blocks_until__gt=slot.starts_at)
        .exclude(status__in=Appointment.NOT_LIVE)
        .exists()
    )
    off = TimeOff.objects.filter(
        masseur_id=slot.masseur_id, starts_at__lt=slot.blocks_until, ends_at__gt=slot.starts_at
    ).exists()
    return not clash and not off


def slots_close(*, now: datetime.datetime, policy: OnlinePolicy) -> int:
    """Offered times too close to offer any more, or booked meanwhile (at the desk): closed; the open offers
    of a booked one are taken (their clients told), of one too close expired."""
    closed = 0
    notice = datetime.timedelta(minutes=policy.offer_notice_minutes)
    for slot in WaitlistSlot.objects.select_for_update().filter(state=WaitlistSlot.State.OPEN):
        if slot.starts_at < now + notice / 2:
            WaitlistOffer.objects.filter(slot=slot, state=WaitlistOffer.State.OPEN).update(
                state=WaitlistOffer.State.EXPIRED
            )
        elif not _still_free(slot):
            outbox.tell_taken(slot, now=now)
        else:
            continue
        WaitlistSlot.objects.filter(pk=slot.pk).update(state=WaitlistSlot.State.CLOSED, closed_at=now)
        closed += 1
    return closed


def slots_close_unanswered(*, now: datetime.datetime) -> int:
    """An offered time with no open offer left after the scan (all expired or declined, nobody else in
    line) is closed: the next free-time search may offer it afresh."""
    return (
        WaitlistSlot.objects.filter(state=WaitlistSlot.State.OPEN)
        .annotate(open_offers=Count("offers", filter=Q(offers__state=WaitlistOffer.State.OPEN)))
        .filter(open_offers=0)
        .update(state=WaitlistSlot.State.CLOSED, closed_at=now)
    )


def line_order(entry: WaitlistEntry) -> tuple:
    """A manager's priority first, then a course client before a single visit, then the longest waiting."""
    return (not entry.priority, entry.course_id is None, entry.created_at, entry.pk)


def fits(entry: WaitlistEntry, *, masseur_id: int, starts_at: datetime.datetime) -> bool:
    if entry.masseur_id is not None and entry.masseur_id != masseur_id:
        return False
    local = starts_at.astimezone(kyiv())
    return local.date() <= entry.until and entry.fits_time(local)


class _Busy:
    """Intervals taken per key (masseur, room or client id), for the checks inside one scan."""

    def __init__(self):
        self.intervals: dict[tuple[str, int], list[availability.Interval]] = defaultdict(list)

    def add(self, kind: str, key: int, lo: datetime.datetime, hi: datetime.datetime) -> None:
        self.intervals[(kind, key)].append((lo, hi))

    def overlaps(self, kind: str, key: int, lo: datetime.datetime, hi: datetime.datetime) -> bool:
        return any(a < hi and lo < b for a, b in self.intervals.get((kind, key), ()))


def offers_make(*, now: datetime.datetime, policy: OnlinePolicy) -> int:
    """Offer free times to the waiting clients, in the line's order; returns how many offers were made."""
    today = local_date(now)
    entries = sorted(
        WaitlistEntry.objects.filter(state=WaitlistEntry.State.WAITING, until__gte=today).select_related(
            "client", "massage_type", "course"
        ),
        key=line_order,
    )
    if not entries:
        return 0
    entry_ids = [e.pk for e in entries]
    waiting_for_answer = set(
        WaitlistOffer.objects.filter(entry_id__in=entry_ids, state=WaitlistOffer.State.OPEN).values_list(
            "entry_id", flat=True
        )
    )
    # Never the same time twice to the same client (expired, declined or taken before).
    offered_before = set(
        WaitlistOffer.objects.filter(entry_id__in=entry_ids).values_list(
            "entry_id", "slot__masseur_id", "slot__starts_at"
        )
    )
    open_slots = list(WaitlistSlot.objects.filter(state=WaitlistSlot.State.OPEN).order_by("starts_at", "pk"))
    open_count = {
        row["slot_id"]: row["n"]
        for row in WaitlistOffer.objects.filter(slot__in=open_slots, state=WaitlistOffer.State.OPEN)
        .values("slot_id")
        .annotate(n=Count("pk"))
    }
    earliest = now + datetime.timedelta(minutes=policy.offer_notice_minutes)
    last_day = today + datetime.timedelta(days=policy.waitlist_horizon_days)
    busy = _Busy()
    for slot in open_slots:
        busy.add("masseur", slot.masseur_id, slot.starts_at, slot.blocks_until)
        busy.add("room", slot.room_id, slot.starts_at, slot.blocks_until)
    for client_id, starts_at, blocks_until in (
        Appointment.objects.filter(client_id__in={e.client_id for e in entries}, blocks_until__gt=now)
        .exclude(status__in=Appointment.NOT_LIVE)
        .values_list("client_id", "starts_at", "blocks_until")
    ):
        busy.add("client", client_id, starts_at, blocks_until)
    verdicts: dict[tuple, bool] = {}

    def allowed(entry: WaitlistEntry, starts_at: datetime.datetime) -> bool:
        key = (entry.client_id, entry.massage_type_id, local_date(starts_at), entry.course_id)
        if key not in verdicts:
            course = gate.facts_of_course(entry.course, also=starts_at) if entry.course_id else None
            verdicts[key] = verdict_for(
                client=entry.client, massage_type=entry.massage_type, day=local_date(starts_at), course=course
            ).is_bookable
        return verdicts[key]

    made = 0
    by_type: dict[int, list[WaitlistEntry]] = defaultdict(list)
    for entry in entries:
        by_type[entry.massage_type_id].append(entry)
    for type_entries in by_type.values():
        massage_type = type_entries[0].massage_type
        end = min(last_day, max(e.until for e in type_entries))
        if end < local_date(earliest):
            continue
        free = [
            slot
            for slot in availability.free_slots(
                massage_type=massage_type, start_date=local_date(earliest), end_date=end, now=earliest
            )
            if slot.starts_at >= earliest
        ]
        for entry in type_entries:
            if entry.pk in waiting_for_answer:
                continue
            slot = _join(entry, open_slots, open_count, offered_before, busy, policy, allowed)
            if slot is None:
                slot = _new_slot(entry, free, offered_before, busy, allowed, massage_type)
                if slot is None:
                    continue
                open_slots.append(slot)
            if _offer(entry, slot, now=now, policy=policy):
                open_count[slot.pk] = open_count.get(slot.pk, 0) + 1
                waiting_for_answer.add(entry.pk)
                offered_before.add((entry.pk, slot.masseur_id, slot.starts_at))
                made += 1
    return made


def _join(entry, open_slots, open_count, offered_before, busy, policy, allowed) -> WaitlistSlot | None:
    """An offered time of the entry's type that still has room for one more offer and suits the entry."""
    for slot in open_slots:
        if (
            slot.massage_type_id == entry.massage_type_id
            and open_count.get(slot.pk, 0) < policy.offers_at_once
            and (entry.pk, slot.masseur_id, slot.starts_at) not in offered_before
            and fits(entry, masseur_id=slot.masseur_id, starts_at=slot.starts_at)
            and not busy.overlaps("client", entry.client_id, slot.starts_at, slot.blocks_until)
            and allowed(entry, slot.starts_at)
        ):
            return slot
    return None


def _new_slot(entry, free, offered_before, busy, allowed, massage_type) -> WaitlistSlot | None:
    """The earliest free time that suits the entry and is not on offer already: a new offered time."""
    for candidate in free:
        if not fits(entry, masseur_id=candidate.masseur.pk, starts_at=candidate.starts_at):
            continue
        lo, hi = candidate.starts_at, candidate.blocks_until
        if (entry.pk, candidate.masseur.pk, lo) in offered_before:
            continue
        if busy.overlaps("masseur", candidate.masseur.pk, lo, hi) or busy.overlaps("client", entry.client_id, lo, hi):
            continue
        room = next((r for r in candidate.rooms if not busy.overlaps("room", r.pk, lo, hi)), None)
        if room is None or not allowed(entry, lo):
            continue
        try:
            with transaction.atomic():
                slot = WaitlistSlot.objects.create(
                    massage_type=massage_type,
                    masseur=candidate.masseur,
                    room=room,
                    starts_at=lo,
                    ends_at=candidate.ends_at,
                    blocks_until=hi,
                )
        except IntegrityError:
            continue  # offered already by a scan that got there first
        busy.add("masseur", candidate.masseur.pk, lo, hi)
        busy.add("room", room.pk, lo, hi)
        return slot
    return None


def _offer(entry: WaitlistEntry, slot: WaitlistSlot, *, now: datetime.datetime, policy: OnlinePolicy) -> bool:
    expires_at = min(
        now + datetime.timedelta(minutes=policy.offer_minutes),
        slot.starts_at - datetime.timedelta(minutes=policy.offer_notice_minutes) / 2,
    )
    try:
        with transaction.atomic():
            offer = WaitlistOffer.objects.create(entry=entry, slot=slot, offered_at=now, expires_at=expires_at)
    except IntegrityError:
        return False
    outbox.message_due(offer, outbox.Kind.OFFER, now)
    return True
