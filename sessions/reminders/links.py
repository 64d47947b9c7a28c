"""Signed links in clients' emails: confirm or cancel one appointment, answer the questionnaire.

A token is signed with a salt per purpose, so a confirm token cannot cancel. An appointment token
carries the appointment's id and its start: once the appointment is moved the start differs and
the link is dead (the "moved" email brings fresh links). Appointment links live until the
appointment starts; the screening link for SCREENING_LINK_MAX_AGE.
"""

import datetime
import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

CONFIRM = "confirm"
CANCEL = "cancel"
# The salts keep their pre-move module name: changing them would void every link already emailed.
_SALTS = {
    CONFIRM: "sessions.links.appointment-confirm",
    CANCEL: "sessions.links.appointment-cancel",
}
_SCREENING_SALT = "sessions.links.self-screening"
SCREENING_LINK_MAX_AGE = datetime.timedelta(days=14)
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class LinkError(Exception):
    """A link that cannot be used; `reason` tells the page which friendly text to show."""

    INVALID = "invalid"  # tampered, truncated, or made for another purpose
    EXPIRED = "expired"  # past its time
    STALE = "stale"  # the appointment was moved (or deleted) since the email

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _absolute(path: str) -> str:
    return getattr(settings, "PARLOR_BASE_URL", DEFAULT_BASE_URL).rstrip("/") + path


def _start_key(starts_at: datetime.datetime) -> str:
    # UTC ISO, so the same instant always gives the same text whatever zone it was read in.
    return starts_at.astimezone(datetime.UTC).isoformat()


# --- making links (the emails call these) ----------------------------------------------------------


def appointment_token(appointment, purpose: str) -> str:
    return signing.dumps({"a": appointment.pk, "s": _start_key(appointment.starts_at)}, salt=_SALTS[purpose])


def screening_token(client) -> str:
    return signing.dumps({"c": client.pk}, salt=_SCREENING_SALT)


def confirm_url(appointment) -> str:
    return _absolute(reverse("sessions:link-confirm", args=[appointment_token(appointment, CONFIRM)]))


def cancel_url(appointment) -> str:
    return _absolute(reverse("sessions:link-cancel", args=[appointment_token(appointment, CANCEL)]))


def screening_url(client) -> str:
    return _absolute(reverse("sessions:link-screening", args=[screening_token(client)]))


# --- reading links (the pages call these) ----------------------------------------------------------


def appointment_from_token(token: str, purpose: str):
    """The appointment a link was made for, or LinkError. Expiry is checked against the
    appointment's start (now or later means expired); a moved appointment means stale."""
    from sessions.models import Appointment

    try:
        payload = signing.loads(token, salt=_SALTS[purpose])
        appointment_id = int(payload["a"])
        signed_start = datetime.datetime.fromisoformat(payload["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkError(LinkError.INVALID) from exc
    appointment = (
        Appointment.objects.select_related("client", "massage_type", "masseur", "room")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or _start_key(appointment.starts_at) != _start_key(signed_start):
        raise LinkError(LinkError.STALE)
    if timezone.now() >= appointment.starts_at:
        raise LinkError(LinkError.EXPIRED)
    return appointment


# Names the screening a questionnaire link yields; a fixed namespace, so the same link always gives the same key.
_SCREENING_KEYS = uuid.UUID("6a1f6d2e-52c4-4f0e-9a43-1c9d7b0f3e58")


def screening_submission_key(token: str) -> uuid.UUID:
    """The submission key of the screening a questionnaire link records: one per link (each email's link is
    signed at its own moment), so a link is used once however often it is submitted."""
    return uuid.uuid5(_SCREENING_KEYS, token)


def client_from_screening_token(token: str):
    """The client a questionnaire link was made for, or LinkError (14 days)."""
    from clients.models import Client

    try:
        payload = signing.loads(token, salt=_SCREENING_SALT, max_age=SCREENING_LINK_MAX_AGE)
        client_id = int(payload["c"])
    except signing.SignatureExpired as exc:
        raise LinkError(LinkError.EXPIRED) from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkError(LinkError.INVALID) from exc
    client = Client.objects.filter(pk=client_id).first()
    # A record merged since the email: the answers belong to the record it was merged into.
    while client is not None and client.merged_into_id is not None:
        client = Client.objects.filter(pk=client.merged_into_id).first()
    if client is None:
        raise LinkError(LinkError.STALE)
    return client
