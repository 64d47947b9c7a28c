"""The waiting list's emails as an outbox, as the reminders' (sessions.reminders.outbox): one row per
message with a unique key, claimed by a conditional UPDATE only one sender can win, retried with backoff
for a mail server's passing trouble; a sender that died leaves its row to the reaper. So each offer and
each "it was taken" goes once, and none is lost while the worker or Redis is down."""

import datetime
import logging
from collections import Counter

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from parlor.contacts import parlor_contacts
from sessions.localtime import kyiv
from sessions.models import WaitlistMessage, WaitlistOffer, WaitlistSlot
from sessions.reminders.outbox import CLAIM_LIMIT, MAX_ATTEMPTS, backoff, greeting, is_transient
from sessions.waitlist import links

logger = logging.getLogger(__name__)

State = WaitlistMessage.State
Kind = WaitlistMessage.Kind
BATCH = 200


def message_due(offer: WaitlistOffer, kind: str, now: datetime.datetime) -> WaitlistMessage:
    """The offer's email of `kind`, made once whatever retries or duplicated scans do."""
    message, _created = WaitlistMessage.objects.get_or_create(
        key=f"waitlist:{offer.pk}:{kind}", defaults={"offer": offer, "kind": kind, "due_at": now}
    )
    return message


def tell_taken(slot: WaitlistSlot, *, now: datetime.datetime, except_offer: int | None = None) -> int:
    """Every other open offer of the slot is taken: each of those clients gets one "it was taken" email."""
    others = list(
        WaitlistOffer.objects.select_for_update()
        .filter(slot=slot, state=WaitlistOffer.State.OPEN)
        .exclude(pk=except_offer)
    )
    for other in others:
        if WaitlistOffer.objects.filter(pk=other.pk, state=WaitlistOffer.State.OPEN).update(
            state=WaitlistOffer.State.TAKEN, answered_at=now
        ):
            message_due(other, Kind.TAKEN, now)
    return len(others)


# --- claiming -------------------------------------------------------------------------------------


def reap(*, now: datetime.datetime) -> int:
    return WaitlistMessage.objects.filter(state=State.SENDING, claimed_at__lt=now - CLAIM_LIMIT).update(
        state=State.DUE, claimed_at=None
    )


def claim(pk: int, *, now: datetime.datetime) -> datetime.datetime | None:
    changed = (
        WaitlistMessage.objects.filter(pk=pk, state=State.DUE, claimed_at=None, due_at__lte=now)
        .exclude(retry_at__gt=now)
        .update(state=State.SENDING, claimed_at=now)
    )
    return now if changed == 1 else None


def _finish(pk: int, claimed_at, /, **fields) -> None:
    WaitlistMessage.objects.filter(pk=pk, state=State.SENDING, claimed_at=claimed_at).update(**fields)


def why_not(message: WaitlistMessage, *, now: datetime.datetime) -> str | None:
    """Why the message must not go out (it is skipped), or None."""
    offer = message.offer
    client = offer.entry.client
    if message.kind == Kind.OFFER and (offer.state != WaitlistOffer.State.OPEN or offer.expires_at <= now):
        return "offer_closed"
    if not client.email or client.erased_at or client.data_consent_withdrawn_at:
        return "no_email"
    return None


# --- the message ----------------------------------------------------------------------------------


def build_message(message: WaitlistMessage) -> EmailMultiAlternatives:
    """The email in the client's language: which time, with whom; never a health detail."""
    offer = message.offer
    slot = offer.slot
    client = offer.entry.client
    language = client.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(kyiv()):
        contacts = parlor_contacts(language)
        context = {
            "greeting": greeting(client, language),
            "starts": slot.starts_at.astimezone(kyiv()),
            "massage_type": slot.massage_type.name_en if language == "en" else slot.massage_type.name_uk,
            "masseur": slot.masseur.display_name,
            "expires": offer.expires_at.astimezone(kyiv()),
            "url": links.offer_url(offer),
            "others": WaitlistOffer.objects.filter(slot=slot).exclude(pk=offer.pk).exists(),
            "parlor_name": contacts.name,
            "parlor_address": contacts.address,
            "parlor_phone": contacts.phone,
        }
        subject = " ".join(render_to_string(f"emails/waitlist_{message.kind}-subject.txt", context).split())
        text = render_to_string(f"emails/waitlist_{message.kind}-body.txt", context)
        html = render_to_string(f"emails/waitlist_{message.kind}-body.html", context)
    email = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [client.email], headers={"X-Parlor-Waitlist": message.key}
    )
    email.attach_alternative(html, "text/html")
    return email


# --- sending --------------------------------------------------------------------------------------


def send_one(pk: int, *, now: datetime.datetime | None = None) -> str:
    """Claim, check and send one message; "not claimed" when another sender has it or it is done."""
    now = now or timezone.now()
    claimed_at = claim(pk, now=now)
    if claimed_at is None:
        return "not claimed"
    message = (
        WaitlistMessage.objects.select_related(
            "offer__entry__client", "offer__slot__massage_type", "offer__slot__masseur"
        )
        .filter(pk=pk)
        .first()
    )
    if message is None:
        return "gone"
    reason = why_not(message, now=now)
    if reason is not None:
        _finish(pk, claimed_at, state=State.SKIPPED, reason=reason, claimed_at=None, retry_at=None)
        return State.SKIPPED
    attempts = message.attempts + 1
    try:
        build_message(message).send()
    except Exception as exc:  # noqa: BLE001 - recorded on the row; none may stop the others
        text = f"{type(exc).__name__}: {exc}"[:500]
        if is_transient(exc) and attempts < MAX_ATTEMPTS:
            _finish(
                pk,
                claimed_at,
                state=State.DUE,
                claimed_at=None,
                attempts=attempts,
                retry_at=timezone.now() + backoff(attempts),
                reason=text,
            )
            return State.DUE
        logger.error("waiting-list email %s failed: %s", pk, text)
        _finish(pk, claimed_at, state=State.FAILED, claimed_at=None, attempts=attempts, retry_at=None, reason=text)
        return State.FAILED
    _finish(pk, claimed_at, state=State.SENT, sent_at=timezone.now(), attempts=attempts, retry_at=None, reason="")
    return State.SENT


def dispatch(*, now: datetime.datetime | None = None) -> Counter:
    """Reap stale claims, then send every message that is due; safe to run several at once."""
    now = now or timezone.now()
    outcome = Counter()
    outcome["reaped"] = reap(now=now)
    due = list(
        WaitlistMessage.objects.filter(state=State.DUE, due_at__lte=now, claimed_at=None)
        .exclude(retry_at__gt=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    for pk in due:
        outcome[send_one(pk, now=now)] += 1
    return outcome
