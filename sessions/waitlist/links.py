"""The link in an offer's email: the offer's id, signed. It lives as long as the offer is open (the row
says); GET shows the offer, only the page's POST accepts (mail scanners open every link)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "sessions.waitlist.offer"


class OfferLinkError(Exception):
    pass


def offer_token(offer) -> str:
    return signing.dumps({"o": offer.pk}, salt=_SALT)


def offer_url(offer) -> str:
    base = getattr(settings, "PARLOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("online:offer", args=[offer_token(offer)])


def offer_id_from_token(token: str) -> int:
    """The offer's id, or OfferLinkError for a link that was never ours."""
    try:
        return int(signing.loads(token, salt=_SALT)["o"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise OfferLinkError from exc
