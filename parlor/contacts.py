"""The parlor's name, address and phone in the reader's language (settings keep both)."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language


@dataclass(frozen=True)
class Contacts:
    name: str
    address: str
    phone: str


def parlor_contacts(language: str | None = None) -> Contacts:
    """In `language`, or the active one; Ukrainian for anything but English."""
    english = (language or get_language() or settings.LANGUAGE_CODE).startswith("en")
    return Contacts(
        name=settings.PARLOR_NAME_EN if english else settings.PARLOR_NAME_UK,
        address=settings.PARLOR_ADDRESS_EN if english else settings.PARLOR_ADDRESS_UK,
        phone=settings.PARLOR_PHONE,
    )
