"""The .ics files the client's emails carry (iTIP, RFC 5546), so that a calendar stays true to the bookings.

- Every appointment is one event with a stable UID, "appointment-<id>@parlor", whatever happens to it.
- SEQUENCE is the appointment's calendar_sequence, raised by each move and by the cancellation, so a
  calendar program replaces what it holds rather than keeping an older version.
- METHOD:REQUEST adds or updates events (a course booked or changed, a move); METHOD:CANCEL removes
  them (a cancellation), by UID.

No health details: the summary is the massage type and the parlor, never an indication or a note.
"""

import datetime
from collections.abc import Iterable
from email.utils import parseaddr
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from parlor.contacts import parlor_contacts

REQUEST = "REQUEST"
CANCEL = "CANCEL"


class CalendarSession(Protocol):
    pk: int
    massage_type: str
    starts_utc: datetime.datetime
    ends_utc: datetime.datetime
    sequence: int


def event_uid(appointment_id: int) -> str:
    """The appointment's event UID in every calendar file, for as long as it exists."""
    return f"appointment-{appointment_id}@parlor"


def _organizer(name: str) -> vCalAddress:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@parlor.localhost"
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name)
    return organizer


def calendar(sessions: Iterable[CalendarSession], *, method: str, language: str, attendee: str = "") -> bytes:
    """One calendar file with an event per session, times in UTC."""
    contacts = parlor_contacts(language)
    cal = Calendar()
    cal.add("prodid", f"-//{settings.PARLOR_NAME}//reminders//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    stamp = timezone.now().astimezone(datetime.UTC)
    for session in sessions:
        event = Event()
        event.add("uid", event_uid(session.pk))
        event.add("sequence", session.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", session.starts_utc.astimezone(datetime.UTC))
        event.add("dtend", session.ends_utc.astimezone(datetime.UTC))
        event.add("summary", f"{session.massage_type} · {contacts.name}")
        event.add("location", contacts.address)
        event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
        event.add("organizer", _organizer(contacts.name))
        if attendee:
            event.add("attendee", vCalAddress(f"mailto:{attendee}"))
        cal.add_component(event)
    return cal.to_ical()
