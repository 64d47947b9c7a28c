"""The client signed in on the public pages, kept in the browser's session (never a staff log-in): the
email they proved, their client record once there is one, and what they were about to book.

A sign-in lasts SIGNED_IN_FOR; signing in again gives the session a new key (no fixation)."""

import time
from dataclasses import dataclass

from clients.models import Client

SIGNED_IN_FOR = 2 * 3600
_KEY = "online_visitor"
_CHOICE = "online_choice"
_PENDING = "online_pending_sign_in"
_PHONE = "online_phone"


@dataclass(frozen=True)
class Visitor:
    email: str
    client: Client | None

    @property
    def is_new(self) -> bool:
        return self.client is None


def sign_in(request, *, email: str, client: Client | None) -> None:
    """Sign the browser in as the owner of `email` (and of its client record, if any)."""
    choice = request.session.get(_CHOICE)
    phone = request.session.get(_PHONE)
    request.session.cycle_key()
    request.session[_KEY] = {"email": email, "client": client.pk if client else None, "at": int(time.time())}
    _forget(request)
    request.session.pop(_PENDING, None)
    if choice is not None:
        request.session[_CHOICE] = choice
    if phone:
        request.session[_PHONE] = phone


def attach_client(request, client: Client) -> None:
    """The signed-in visitor has just made their profile."""
    data = request.session.get(_KEY)
    if data:
        request.session[_KEY] = {**data, "client": client.pk}
    _forget(request)


def visitor(request) -> Visitor | None:
    """The signed-in visitor, or None (never signed in, signed out, or too long ago). One query, once per
    request (the page's header asks again)."""
    if not hasattr(request, "_online_visitor"):
        request._online_visitor = _load(request)
    return request._online_visitor


def _forget(request) -> None:
    request.__dict__.pop("_online_visitor", None)


def _load(request) -> Visitor | None:
    data = request.session.get(_KEY)
    if not isinstance(data, dict) or int(time.time()) - int(data.get("at", 0)) > SIGNED_IN_FOR:
        return None
    client = None
    if data.get("client"):
        client = Client.objects.active().filter(pk=data["client"]).first()
        if client is None:  # merged or erased since: sign in again
            return None
    return Visitor(email=data.get("email", ""), client=client)


def sign_out(request) -> None:
    for key in (_KEY, _CHOICE, _PENDING, _PHONE):
        request.session.pop(key, None)
    _forget(request)


def remember_choice(request, choice: dict | None) -> None:
    if choice is None:
        request.session.pop(_CHOICE, None)
    else:
        request.session[_CHOICE] = choice


def choice(request) -> dict | None:
    value = request.session.get(_CHOICE)
    return value if isinstance(value, dict) else None


def remember_pending(request, *, nonce: str, email: str, phone: str = "") -> None:
    """The code path: which sign-in the six digits typed in this browser belong to."""
    request.session[_PENDING] = {"nonce": nonce, "email": email}
    if phone:
        request.session[_PHONE] = phone


def pending(request) -> dict | None:
    value = request.session.get(_PENDING)
    return value if isinstance(value, dict) else None


def phone(request) -> str:
    return request.session.get(_PHONE) or ""
