"""The dispatcher: claims due reminders a batch at a time and sends them over one mail connection.

State lives in PostgreSQL: a batch is claimed by one UPDATE ... RETURNING whose subquery locks its rows
FOR UPDATE SKIP LOCKED, so two dispatchers running at once (beat's scan, an immediate send, an
operator's command) take disjoint rows and never send a message twice. A worker that dies mid-batch
leaves its rows in "sending"; the reaper makes them due again (at most a batch is sent twice then).
"""

import datetime
import logging
import smtplib
import socket
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection
from django.db.models import F
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
# Rows claimed at once. Small enough that a worker killed mid-batch resends few messages once reaped, and
# that a batch ends well within CLAIM_LIMIT; large enough that claiming and finishing are a few statements.
BATCH = 50
# Batches a run sends at most (2,000 messages): a day's reminders go in one run, a flood waits a minute.
MAX_BATCHES = 40
# A batch still sending after this (a slow mail server) gives its untried rows back before the reaper could
# hand them to another dispatcher while this one still holds them.
BATCH_TIME_LIMIT = CLAIM_LIMIT / 2


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


# The batch is chosen once, in a materialized CTE: as an IN (subquery) the planner may rescan it per row,
# and each rescan skips the rows this statement already updated and takes the next ones, past the LIMIT.
_CLAIM_BATCH = """
    WITH batch AS MATERIALIZED (
        SELECT id FROM {table}
        WHERE state = %(due)s AND due_at <= %(now)s AND claimed_at IS NULL
          AND (retry_at IS NULL OR retry_at <= %(now)s)
        ORDER BY due_at, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE {table} AS r SET state = %(sending)s, claimed_at = %(now)s
    FROM batch
    WHERE r.id = batch.id AND r.state = %(due)s
    RETURNING r.id
"""


def claim_batch(*, now=None, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due rows, oldest first, in one statement; rows another dispatcher is claiming
    right now are skipped (SKIP LOCKED), not waited for, and rows it claimed are no longer due."""
    now = now or timezone.now()
    sql = _CLAIM_BATCH.format(table=connection.ops.quote_name(Reminder._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"sending": State.SENDING, "due": State.DUE, "now": now, "limit": limit})
        return [row[0] for row in cursor.fetchall()]


def _finish(pk: int, claim_time, /, **fields) -> None:
    # Only the claim's owner finishes the row: a reaped and re-claimed row is someone else's now.
    Reminder.objects.filter(pk=pk, state=State.SENDING, claimed_at=claim_time).update(**fields)


def _finish_many(pks: list[int], claim_time, /, **fields) -> None:
    if pks:
        Reminder.objects.filter(pk__in=pks, state=State.SENDING, claimed_at=claim_time).update(**fields)


# --- deciding -----------------------------------------------------------------------------------


@dataclass
class BatchFacts:
    """What deciding a batch needs beyond its rows, read once for the batch: the last live session of each
    course with a "course ending" reminder, and the time of the newest screening of each client asked for a
    fresh one (None: never screened)."""

    last_sessions: dict[int, Appointment]
    latest_screenings: dict[int, datetime.datetime | None]

    @classmethod
    def of(cls, reminders: list[Reminder]) -> "BatchFacts":
        courses = {r.course_id for r in reminders if r.kind == Kind.COURSE_ENDING and r.course_id}
        clients = {r.client_id for r in reminders if r.kind == Kind.FRESH_SCREENING}
        return cls(
            last_sessions=planning.last_sessions(courses),
            latest_screenings=planning.latest_screening_times(clients),
        )


def why_not(reminder: Reminder, *, now, facts: BatchFacts | None = None) -> tuple[str, str] | None:
    """(state, reason code) when the reminder must not go out, None when it should. `facts`: read for the
    whole batch (BatchFacts.of); without them this reads what it needs."""
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
        last = facts.last_sessions.get(course.pk) if facts is not None else planning.last_session(course)
        if last is None or reminder.key != planning.course_ending_key(course, last):
            return State.VOID, Reason.NOT_LAST_SESSION
    if reminder.kind in (Kind.COURSE_BOOKED, Kind.COURSE_CHANGED) and reminder.course.status == Course.Status.CANCELLED:
        return State.SKIPPED, Reason.COURSE_CANCELLED
    if reminder.kind == Kind.FRESH_SCREENING and not _will_be_stale(reminder, facts):
        return State.SKIPPED, Reason.SCREENING_UP_TO_DATE
    if not client.reminder_consent:
        return State.SKIPPED, Reason.NO_CONSENT
    if not client.email:
        return State.SKIPPED, Reason.NO_EMAIL
    return None


def _will_be_stale(reminder: Reminder, facts: BatchFacts | None) -> bool:
    day = local_date(reminder.appointment.starts_at)
    if facts is None:
        return planning.screening_will_be_stale(client=reminder.client, day=day)
    return planning.is_stale(facts.latest_screenings.get(reminder.client_id), day=day)


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


def _load(pks: list[int]) -> list[Reminder]:
    return list(
        Reminder.objects.select_related(
            "client", "course", "appointment__masseur", "appointment__massage_type", "appointment__course"
        )
        .filter(pk__in=pks)
        .order_by("due_at", "pk")
    )


def _failure(reminder: Reminder, exc: BaseException, attempts: int) -> dict:
    """How a failed send is recorded: due again after the backoff when worth another try, failed otherwise."""
    reason = f"{type(exc).__name__}: {exc}"[:500]
    if is_transient(exc) and attempts < MAX_ATTEMPTS:
        logger.warning("reminder %s: transient failure, retrying: %s", reminder.pk, reason)
        return {
            "state": State.DUE,
            "claimed_at": None,
            "attempts": attempts,
            "retry_at": timezone.now() + backoff(attempts),
            "reason": reason,
        }
    if is_transient(exc):
        # Shown as "gave up after N attempts: ..." in the reader's language (Reminder.reason_text).
        reason = f"{Reminder.GAVE_UP}{reason}"[:500]
    logger.error("reminder %s failed: %s", reminder.pk, reason)
    return {"state": State.FAILED, "claimed_at": None, "attempts": attempts, "retry_at": None, "reason": reason}


def _close(mail) -> None:
    try:
        mail.close()
    except Exception:  # noqa: BLE001 - a connection that broke mid-batch may fail to say goodbye too
        logger.debug("mail connection did not close cleanly", exc_info=True)


def send_batch(pks: list[int], claimed_at: datetime.datetime, *, now) -> Counter:
    """Check and send the claimed rows `pks` over one mail connection, then finish them with one UPDATE per
    outcome (failures one by one). A connection that fails is dropped and the next message opens a new one.
    Returns how many ended in each state; rows given back unsent (the batch ran too long) as "released"."""
    outcome = Counter()
    reminders = _load(pks)
    outcome["gone"] = len(pks) - len(reminders)
    facts = BatchFacts.of(reminders)
    done: dict[tuple[str, str], list[int]] = defaultdict(list)
    sent: list[int] = []
    mail = None
    started = time.monotonic()
    try:
        for index, reminder in enumerate(reminders):
            if time.monotonic() - started > BATCH_TIME_LIMIT.total_seconds():
                rest = [r.pk for r in reminders[index:]]
                _finish_many(rest, claimed_at, state=State.DUE, claimed_at=None)
                outcome["released"] += len(rest)
                break
            verdict = why_not(reminder, now=now, facts=facts)
            if verdict is not None:
                done[verdict].append(reminder.pk)
                outcome[verdict[0]] += 1
                continue
            try:
                message = build_message(reminder)
                if mail is None:
                    mail = get_connection()
                    mail.open()
                message.connection = mail
                message.send()
            except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, none may stop the batch
                fields = _failure(reminder, exc, reminder.attempts + 1)
                _finish(reminder.pk, claimed_at, **fields)
                outcome[fields["state"]] += 1
                if mail is not None:
                    _close(mail)
                    mail = None
                continue
            sent.append(reminder.pk)
            outcome[State.SENT] += 1
    finally:
        if mail is not None:
            _close(mail)
        # Recorded even when something unexpected stops the loop: what went out must not go out again.
        _finish_many(
            sent,
            claimed_at,
            state=State.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            retry_at=None,
            reason="",
        )
        for (state, reason), ids in done.items():
            _finish_many(ids, claimed_at, state=state, reason=reason, claimed_at=None, retry_at=None)
    if not outcome["gone"]:
        del outcome["gone"]
    return outcome


def send_one(pk: int, *, now=None) -> str:
    """Claim, check and send one reminder; returns what became of it; "not claimed" when
    another worker has it, it is done, or it is not due."""
    now = now or timezone.now()
    claimed_at = claim(pk, now=now)
    if claimed_at is None:
        return "not claimed"
    outcome = send_batch([pk], claimed_at, now=now)
    return next(iter(outcome), "gone")


def dispatch(*, now=None, batch: int = BATCH, max_batches: int = MAX_BATCHES) -> Counter:
    """Reap stale claims, then send what is due a batch at a time until nothing is (at most `max_batches`);
    safe to run several at once."""
    now = now or timezone.now()
    outcome = Counter()
    outcome["reaped"] = reap(now=now)
    for _round in range(max_batches):
        pks = claim_batch(now=now, limit=batch)
        if pks:
            outcome.update(send_batch(pks, now, now=now))
        if len(pks) < batch:
            break
    return outcome
