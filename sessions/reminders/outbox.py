"""The dispatcher: claims due reminders one row at a time and sends them.

State lives in PostgreSQL: a row is claimed by a conditional UPDATE that only
one worker can win, so two dispatchers running at once (beat's scan, an
immediate send, an operator's command) never send a message twice. A worker
that dies mid-send leaves its row in "sending"; the reaper makes it due again.
"""

import datetime
import logging
import smtplib
import socket
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import pgettext

from clients import names
from parlor.contacts import parlor_contacts
from sessions.localtime import kyiv, local_date
from sessions.models import Appointment, Course, Reminder
from sessions.reminders import calendar_files, links, planning

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
State = Reminder.State
Reason = Reminder.Reason

# Why a reminder about an appointment in this status no longer goes out.
_STATUS_REASONS = {
    Appointment.Status.CANCELLED: Reason.APPOINTMENT_CANCELLED,
    Appointment.Status.CHECKED_IN: Reason.APPOINTMENT_CHECKED_IN,
    Appointment.Status.COMPLETED: Reason.APPOINTMENT_COMPLETED,
    Appointment.Status.NO_SHOW: Reason.APPOINTMENT_NO_SHOW,
}

CLAIM_LIMIT = datetime.timedelta(minutes=10)
# Not sent while the appointment is on hold or awaits a clearance: they say "see you", carry confirm links
# or ask for answers the front desk will take on the phone.
HELD_KINDS = (Kind.APPOINTMENT, Kind.COURSE_ENDING, Kind.FRESH_SCREENING)
MAX_ATTEMPTS = 8
MAX_BACKOFF_MINUTES = 60
BATCH = 200


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, ... minutes after the 1st, 2nd, 3rd failed attempt, at most an hour."""
    return datetime.timedelta(minutes=min(MAX_BACKOFF_MINUTES, 2 ** max(attempts - 1, 0)))


def is_transient(exc: BaseException) -> bool:
    """Worth another try later: the server went away, timed out, or answered 4xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):
        # Other SMTP errors (no STARTTLS, an unsupported command) are configuration, not weather.
        return False
    # Refused connections, resets and socket timeouts are all OSErrors.
    return isinstance(exc, TimeoutError | socket.timeout | ConnectionError | OSError)


# --- claiming -----------------------------------------------------------------------------------


def reap(*, now=None) -> int:
    """Rows claimed longer ago than CLAIM_LIMIT belong to a dead worker: due again."""
    now = now or timezone.now()
    return Reminder.objects.filter(state=State.SENDING, claimed_at__lt=now - CLAIM_LIMIT).update(
        state=State.DUE, claimed_at=None
    )


def claim(pk: int, *, now=None) -> datetime.datetime | None:
    """Take the row if it is due and nobody has; returns the claim's time, or None (another worker won,
    it is done, or not due yet: a duplicated immediate send must not jump a retry's backoff)."""
    now = now or timezone.now()
    changed = (
        Reminder.objects.filter(pk=pk, state=State.DUE, claimed_at=None, due_at__lte=now)
        .exclude(retry_at__gt=now)
        .update(state=State.SENDING, claimed_at=now)
    )
    return now if changed == 1 else None


def due_ids(*, now=None, limit: int = BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        Reminder.objects.filter(state=State.DUE, due_at__lte=now, claimed_at=None)
        .exclude(retry_at__gt=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _finish(pk: int, claim_time, /, **fields) -> None:
    # Only the claim's owner finishes the row: a reaped and re-claimed row is someone else's now.
    Reminder.objects.filter(pk=pk, state=State.SENDING, claimed_at=claim_time).update(**fields)


# --- deciding -----------------------------------------------------------------------------------


def why_not(reminder: Reminder, *, now) -> tuple[str, str] | None:
    """(state, reason code) when the reminder must not go out, None when it should."""
    client = reminder.client
    appointment = reminder.appointment
    if appointment is not None and reminder.kind != Kind.CANCELLED:
        timed = reminder.kind in planning.TIMED_KINDS and reminder.kind != Kind.COURSE_ENDING
        if timed and reminder.key != planning.appointment_key(appointment, reminder.kind):
            return State.VOID, Reason.APPOINTMENT_MOVED
        if appointment.status not in Appointment.UPCOMING:
            return State.SKIPPED, _STATUS_REASONS.get(appointment.status, Reason.APPOINTMENT_CANCELLED)
        # On hold: no reminder, no confirm link, no "see you tomorrow"; the client gets the hold's message.
        if appointment.status == Appointment.Status.ON_HOLD and reminder.kind in HELD_KINDS:
            return State.SKIPPED, planning.SKIPPED_ON_HOLD
        # The request for a fresh screening still goes: answering it is what a session awaiting one needs.
        awaiting_held = tuple(kind for kind in HELD_KINDS if kind != Kind.FRESH_SCREENING)
        if appointment.status == Appointment.Status.AWAITING_CLEARANCE and reminder.kind in awaiting_held:
            return State.SKIPPED, planning.SKIPPED_AWAITING
        if reminder.kind == Kind.ON_HOLD and appointment.status != Appointment.Status.ON_HOLD:
            return State.SKIPPED, Reason.HOLD_RELEASED
    if appointment is not None and appointment.starts_at <= now:
        # Late: its point has passed (the worker or the broker was down too long).
        return State.SKIPPED, Reason.ALREADY_STARTED
    if reminder.kind == Kind.COURSE_ENDING:
        course = reminder.course
        last = planning.last_session(course)
        if last is None or reminder.key != planning.course_ending_key(course, last):
            return State.VOID, Reason.NOT_LAST_SESSION
    if reminder.kind in (Kind.COURSE_BOOKED, Kind.COURSE_CHANGED) and reminder.course.status == Course.Status.CANCELLED:
        return State.SKIPPED, Reason.COURSE_CANCELLED
    if reminder.kind == Kind.FRESH_SCREENING and not planning.screening_will_be_stale(
        client=client, day=local_date(appointment.starts_at)
    ):
        return State.SKIPPED, Reason.SCREENING_UP_TO_DATE
    if not client.reminder_consent:
        return State.SKIPPED, Reason.NO_CONSENT
    if not client.email:
        return State.SKIPPED, Reason.NO_EMAIL
    return None


# --- the message --------------------------------------------------------------------------------


@dataclass
class Session:
    number: int
    starts: datetime.datetime  # local, Europe/Kyiv
    ends: datetime.datetime
    masseur: str
    massage_type: str
    pk: int
    starts_utc: datetime.datetime
    ends_utc: datetime.datetime
    # The event's SEQUENCE in calendar files (Appointment.calendar_sequence).
    sequence: int = 0


def _type_name(massage_type, language: str) -> str:
    return massage_type.name_en if language == "en" else massage_type.name_uk


def _session(appointment: Appointment, number: int, language: str) -> Session:
    tz = kyiv()
    return Session(
        number=number,
        starts=appointment.starts_at.astimezone(tz),
        ends=appointment.ends_at.astimezone(tz),
        masseur=appointment.masseur.display_name,
        massage_type=_type_name(appointment.massage_type, language),
        pk=appointment.pk,
        starts_utc=appointment.starts_at,
        ends_utc=appointment.ends_at,
        sequence=appointment.calendar_sequence,
    )


def _course_sessions(course: Course, language: str, *, statuses=None) -> list[Session]:
    queryset = course.appointments.select_related("masseur", "massage_type").order_by("starts_at")
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    else:
        queryset = queryset.exclude(status__in=Appointment.NOT_LIVE)
    return [_session(appointment, number, language) for number, appointment in enumerate(queryset, start=1)]


def calendar_ics(
    sessions: list[Session], *, method: str = calendar_files.REQUEST, language: str = "uk", to: str = ""
) -> bytes:
    """The calendar file of these sessions: every event with its stable UID and SEQUENCE (see calendar_files)."""
    return calendar_files.calendar(sessions, method=method, language=language, attendee=to)


def _absolute(url: str) -> str:
    # sessions.reminders.links may give a path or a whole URL; an email needs the whole URL.
    if url.startswith("/"):
        return getattr(settings, "PARLOR_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + url
    return url


def greeting(client, language: str) -> str:
    """ "Шановна Оксано Петрівно," (the vocative, agreeing with the client's sex) or "Dear Oksana,"."""
    name = {"name": names.addressed_as(client.full_name, sex=client.sex, language=language)}
    # Literal contexts, so that makemessages finds both (Шановний / Шановна).
    if client.sex == client.Sex.MALE:
        return pgettext("male", "Dear %(name)s,") % name
    return pgettext("female", "Dear %(name)s,") % name


def context_for(reminder: Reminder, *, language: str) -> dict:
    """What the templates see: names, local times and the parlor's contacts; never a screening or a note."""
    appointment = reminder.appointment
    course = reminder.course
    contacts = parlor_contacts(language)
    context = {
        "kind": reminder.kind,
        "client_name": reminder.client.full_name,
        "client_sex": reminder.client.sex,
        "greeting": greeting(reminder.client, language),
        "parlor_name": contacts.name,
        "parlor_address": contacts.address,
        "parlor_phone": contacts.phone,
        "session": _session(appointment, 1, language) if appointment is not None else None,
        "sessions": [],
    }
    if (
        appointment is not None
        and reminder.kind in (Kind.APPOINTMENT, Kind.MOVED, Kind.COURSE_ENDING)
        and appointment.status in Appointment.BOOKABLE
    ):
        # Only for what the client may confirm: never for a session on hold or awaiting a clearance.
        context["confirm_url"] = _absolute(links.confirm_url(appointment))
        context["cancel_url"] = _absolute(links.cancel_url(appointment))
    if reminder.kind in (Kind.FRESH_SCREENING, Kind.SCREENING_LINK):
        context["screening_url"] = _absolute(links.screening_url(reminder.client))
    if appointment is not None and reminder.kind == Kind.BOOKED:
        # Pencilled in until the client brings a doctor's note; the email names no diagnosis.
        context["awaiting_clearance"] = appointment.status == Appointment.Status.AWAITING_CLEARANCE
    if course is not None and reminder.kind in (Kind.COURSE_BOOKED, Kind.COURSE_CHANGED):
        context["sessions"] = _course_sessions(course, language)
        # Pencilled in until the client brings a doctor's note; the email names no diagnosis.
        context["awaiting_clearance"] = course.appointments.filter(
            status=Appointment.Status.AWAITING_CLEARANCE
        ).exists()
        first = context["sessions"][0].starts.date() if context["sessions"] else None
        if (
            context["awaiting_clearance"]
            and first
            and planning.screening_will_be_stale(client=reminder.client, day=first)
        ):
            # A new caller pencilled in: the questionnaire by its link, no diagnosis named.
            context["awaiting_screening"] = True
            context["screening_url"] = _absolute(links.screening_url(reminder.client))
    if course is not None and reminder.kind == Kind.CANCELLED and appointment is None:
        context["sessions"] = _course_sessions(course, language, statuses=[Appointment.Status.CANCELLED])
        context["sessions"] = [s for s in context["sessions"] if s.starts_utc > reminder.due_at]
    return context


def _calendar_attachment(reminder: Reminder, context: dict, language: str) -> tuple[str, bytes, str] | None:
    """(file name, content, MIME type) of the calendar file the email carries, or None.

    Applied in the order they were sent, these files leave a calendar holding exactly the client's
    bookings: a course's schedule and a change of it carry every live session, a move the new time
    (with a higher SEQUENCE), a cancellation a METHOD:CANCEL of the same UID."""
    to = reminder.client.email
    if reminder.kind in (Kind.COURSE_BOOKED, Kind.COURSE_CHANGED):
        sessions, method, name = context["sessions"], calendar_files.REQUEST, "course.ics"
    elif reminder.kind in (Kind.MOVED, Kind.BOOKED) and context["session"] is not None:
        sessions, method, name = [context["session"]], calendar_files.REQUEST, "appointment.ics"
    elif reminder.kind == Kind.CANCELLED:
        sessions = [context["session"]] if context["session"] is not None else context["sessions"]
        method, name = calendar_files.CANCEL, "cancelled.ics"
    else:
        return None
    if not sessions:
        return None
    content = calendar_ics(sessions, method=method, language=language, to=to)
    return name, content, f"text/calendar; method={method}"


def build_message(reminder: Reminder) -> EmailMultiAlternatives:
    """The email in the client's language: subject, plain text and HTML; a calendar file when the client's
    calendar must change (a booking the client made, a course booked or changed, a move, a cancellation)."""
    language = reminder.client.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(kyiv()):
        context = context_for(reminder, language=language)
        subject = " ".join(render_to_string(f"emails/{reminder.kind}-subject.txt", context).split())
        text = render_to_string(f"emails/{reminder.kind}-body.txt", context)
        html = render_to_string(f"emails/{reminder.kind}-body.html", context)
        attachment = _calendar_attachment(reminder, context, language)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.client.email],
        headers={"X-Parlor-Reminder": reminder.key},
    )
    message.attach_alternative(html, "text/html")
    if attachment is not None:
        message.attach(*attachment)
    return message


# --- sending ------------------------------------------------------------------------------------


def send_one(pk: int, *, now=None) -> str:
    """Claim, check and send one reminder; returns what became of it; "not claimed" when
    another worker has it, it is done, or it is not due."""
    now = now or timezone.now()
    claimed_at = claim(pk, now=now)
    if claimed_at is None:
        return "not claimed"
    reminder = (
        Reminder.objects.select_related(
            "client", "course", "appointment__masseur", "appointment__massage_type", "appointment__course"
        )
        .filter(pk=pk)
        .first()
    )
    if reminder is None:
        return "gone"
    verdict = why_not(reminder, now=now)
    if verdict is not None:
        state, reason = verdict
        _finish(pk, claimed_at, state=state, reason=reason, claimed_at=None, retry_at=None)
        return state
    attempts = reminder.attempts + 1
    try:
        build_message(reminder).send()
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, none may kill the scan
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if is_transient(exc) and attempts < MAX_ATTEMPTS:
            logger.warning("reminder %s: transient failure, retrying: %s", pk, reason)
            _finish(
                pk,
                claimed_at,
                state=State.DUE,
                claimed_at=None,
                attempts=attempts,
                retry_at=timezone.now() + backoff(attempts),
                reason=reason,
            )
            return State.DUE
        if is_transient(exc):
            # Shown as "gave up after N attempts: ..." in the reader's language (Reminder.reason_text).
            reason = f"{Reminder.GAVE_UP}{reason}"[:500]
        logger.error("reminder %s failed: %s", pk, reason)
        _finish(pk, claimed_at, state=State.FAILED, claimed_at=None, attempts=attempts, retry_at=None, reason=reason)
        return State.FAILED
    _finish(pk, claimed_at, state=State.SENT, sent_at=timezone.now(), attempts=attempts, retry_at=None, reason="")
    return State.SENT


def dispatch(*, now=None) -> Counter:
    """Reap stale claims, then send every reminder that is due; safe to run several at once."""
    now = now or timezone.now()
    outcome = Counter()
    outcome["reaped"] = reap(now=now)
    for pk in due_ids(now=now):
        outcome[send_one(pk, now=now)] += 1
    return outcome
