"""Clients never get a password: they sign in with a one-time link, or the six-digit code in the same
email, each good for LINK_MINUTES and once.

Nobody can probe who is a client: whatever is typed, the page answers the same. A known client's
email greets them by name; an unknown address gets the same link, which leads to a short profile; a
request over the throttle, or a bot's (the honeypot), gets nothing sent and the same answer.

The throttle counts the SignIn rows in PostgreSQL (per email and per network address, in the last
hour), not Django's cache: the rows are needed anyway to spend a link once, they hold no address in
clear (keyed digests), and a Redis that is down neither opens the gate nor closes it.
"""

import datetime
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from parlor.contacts import parlor_contacts
from sessions.models import OnlinePolicy, SignIn
from sessions.reminders import outbox

logger = logging.getLogger(__name__)

LINK_MINUTES = 15
MAX_WRONG_CODES = 5
THROTTLE_WINDOW = datetime.timedelta(hours=1)
_SALT = "sessions.online.sign-in"

USED = "used"
EXPIRED = "expired"
INVALID = "invalid"


class SignInError(Exception):
    """A link or code that cannot sign anyone in; `reason` picks the page's friendly text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedIn:
    """Who proved they read this mailbox: the address, its live client record if there is one, and the
    booking they were about to make (see sessions.online.choices)."""

    email: str
    client: Client | None
    choice: dict | None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _digest(kind: str, value: str) -> str:
    """A keyed digest: equal for equal values, useless without SECRET_KEY."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _lock(digest: str) -> None:
    """Serialise the requests for one address in this transaction: the count and the insert are one step."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(digest[:15], 16)])


def client_for_email(email: str) -> Client | None:
    """The live client record with this email (case ignored), or None. One query."""
    email = normalise_email(email)
    if not email:
        return None
    # Lower(email) = value: the expression of clients_client_email_unique, so its index serves it.
    return Client.objects.active().alias(email_lower=Lower("email")).filter(email_lower=email).first()


def _absolute(path: str) -> str:
    return getattr(settings, "PARLOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def link_token(*, nonce: uuid.UUID, email: str, choice: dict | None) -> str:
    return signing.dumps({"n": str(nonce), "e": email, "c": choice}, salt=_SALT, compress=True)


def sign_in_request(
    *, email: str, address: str, language: str, choice: dict | None = None, now: datetime.datetime | None = None
) -> SignIn | None:
    """Email a one-time link and code to `email`, unless that address or this network address asked
    LIMIT times in the last hour (then nothing is sent). Returns the new row, None when throttled:
    callers answer the same either way."""
    email = normalise_email(email)
    now = now or timezone.now()
    policy = OnlinePolicy.current()
    email_digest, address_digest = _digest("email", email), _digest("address", address or "")
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        _lock(email_digest)
        since = now - THROTTLE_WINDOW
        if SignIn.objects.filter(email_digest=email_digest, created_at__gte=since).count() >= policy.sign_ins_per_email:
            logger.info("sign-in throttled for an email address")
            return None
        if (
            SignIn.objects.filter(address_digest=address_digest, created_at__gte=since).count()
            >= policy.sign_ins_per_network_address
        ):
            logger.info("sign-in throttled for a network address")
            return None
        nonce = uuid.uuid4()
        row = SignIn.objects.create(
            nonce=nonce,
            email_digest=email_digest,
            address_digest=address_digest,
            code_digest=_digest("code", f"{nonce}:{code}"),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=LINK_MINUTES),
        )
    client = client_for_email(email)
    url = _absolute(reverse("online:sign-in-link", args=[link_token(nonce=nonce, email=email, choice=choice)]))
    try:
        sign_in_message(email=email, client=client, url=url, code=code, language=language).send()
    except Exception:  # noqa: BLE001 - the answer must not change; the client simply asks again
        logger.exception("could not send a sign-in email")
    return row


def sign_in_message(*, email: str, client: Client | None, url: str, code: str, language: str) -> EmailMultiAlternatives:
    """The sign-in email in the client's language (a new address: the page's), no health detail."""
    language = client.language if client is not None else language
    with translation.override(language):
        contacts = parlor_contacts(language)
        context = {
            "greeting": outbox.greeting(client, language) if client is not None else _("Hello,"),
            "url": url,
            "code": code,
            "minutes": LINK_MINUTES,
            "parlor_name": contacts.name,
            "parlor_address": contacts.address,
            "parlor_phone": contacts.phone,
        }
        subject = " ".join(render_to_string("emails/sign_in-subject.txt", context).split())
        text = render_to_string("emails/sign_in-body.txt", context)
        html = render_to_string("emails/sign_in-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [email])
    message.attach_alternative(html, "text/html")
    return message


def _spend(row_filter: dict, now: datetime.datetime) -> bool:
    """The conditional UPDATE that uses a link or code: of two at once, one wins."""
    return bool(SignIn.objects.filter(**row_filter, used_at__isnull=True, expires_at__gt=now).update(used_at=now))


def sign_in_by_link(*, token: str, now: datetime.datetime | None = None) -> SignedIn:
    """Who the link signs in, spending it; SignInError when it was tampered with, is past its time or used."""
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=_SALT, max_age=datetime.timedelta(minutes=LINK_MINUTES))
        nonce, email, choice = uuid.UUID(payload["n"]), normalise_email(payload["e"]), payload.get("c")
    except signing.SignatureExpired as exc:
        raise SignInError(EXPIRED) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise SignInError(INVALID) from exc
    if not _spend({"nonce": nonce, "email_digest": _digest("email", email)}, now):
        raise SignInError(USED)
    return SignedIn(email=email, client=client_for_email(email), choice=choice if isinstance(choice, dict) else None)


def link_is_usable(token: str, *, now: datetime.datetime | None = None) -> bool:
    """Can the link still sign in? Reads only (a mail scanner's GET must not spend it)."""
    now = now or timezone.now()
    try:
        payload = signing.loads(token, salt=_SALT, max_age=datetime.timedelta(minutes=LINK_MINUTES))
        nonce = uuid.UUID(payload["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    return SignIn.objects.filter(nonce=nonce, used_at__isnull=True, expires_at__gt=now).exists()


WRONG_CODE = _("This code is not right. Check the latest email and type its six digits.")
DEAD_CODE = _("This code can no longer be used. Ask for a new email.")


def sign_in_by_code(*, nonce: str, email: str, code: str, now: datetime.datetime | None = None) -> SignedIn:
    """Who the code signs in, spending it; a ValidationError for a wrong code (MAX_WRONG_CODES wrong
    ones and it is dead) or one that is used or past its time."""
    now = now or timezone.now()
    email = normalise_email(email)
    try:
        nonce = uuid.UUID(str(nonce))
    except ValueError as exc:
        raise ValidationError({"code": DEAD_CODE}, code="dead") from exc
    row = SignIn.objects.filter(nonce=nonce, email_digest=_digest("email", email)).first()
    if row is None or row.used_at is not None or row.expires_at <= now or row.wrong_codes >= MAX_WRONG_CODES:
        raise ValidationError({"code": DEAD_CODE}, code="dead")
    typed = "".join(ch for ch in (code or "") if ch.isdigit())
    if not hmac.compare_digest(row.code_digest, _digest("code", f"{nonce}:{typed}")):
        SignIn.objects.filter(pk=row.pk).update(wrong_codes=F("wrong_codes") + 1)
        raise ValidationError({"code": WRONG_CODE}, code="wrong")
    if not _spend({"pk": row.pk, "wrong_codes__lt": MAX_WRONG_CODES}, now):
        raise ValidationError({"code": DEAD_CODE}, code="dead")
    return SignedIn(email=email, client=client_for_email(email), choice=None)


def sign_ins_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the rows older than a day: past their time and past the throttle's window."""
    now = now or timezone.now()
    deleted, _by_model = SignIn.objects.filter(created_at__lt=now - datetime.timedelta(days=1)).delete()
    return deleted
