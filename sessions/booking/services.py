"""Writes: booking, moving and cancelling appointments and courses."""

import datetime
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from parlor import closures
from parlor.formats import weekday_day, when
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours
from screening.access import can_view_health_record
from sessions.booking import availability, freed, gate, locks
from sessions.booking.selectors import (
    BOOK_ON_CLOSED_DAY,
    MAX_GAP_DAYS,
    SessionToCheck,
    appointment_conflicts,
    client_busy_message,
    course_gap_warnings,
    gap_warning,
    kyiv,
    local_date,
    masseur_busy_message,
    room_busy_message,
    sessions_conflicts,
)
from sessions.models import MAX_COURSE_SESSIONS, Appointment, Course

OVERRIDE_PERMISSION = "treatments.override_block"


# --- the screening verdict ----------------------------------------------------------------------


def _verdict(*, client: Client, massage_type: MassageType, day: datetime.date, course=None):
    """Ask screening whether the client may have this massage type on this day (as a session of
    `course`, rules.CourseFacts, when given).

    Imported here: screening must not be needed to import sessions, and tests
    replace this one function.
    """
    from screening.selectors import verdict_for

    return verdict_for(client=client, massage_type=massage_type, day=day, course=course)


def _verdicts(*, client: Client, massage_type: MassageType, days, course=None) -> dict:
    """_verdict for each day, in three queries whatever their number (a course's sessions). Tests replace
    this one too (with a loop over their _verdict)."""
    from sessions.booking.page_selectors import verdicts_by_day

    return verdicts_by_day(client=client, massage_type=massage_type, days=days, course=course)


def _status_name(verdict) -> str:
    status = verdict.status
    return str(getattr(status, "name", status)).upper()


@dataclass
class ScreeningCheck:
    """What the screening says about one booking: why it is refused, or how it goes ahead."""

    refusals: list[str] = field(default_factory=list)
    # The verdict a new override is written against (its blockers are what it covers); None: no override.
    override_of: object | None = None
    # Booked as "awaiting clearance": the slot is kept until a doctor's clearance is recorded.
    awaiting: bool = False


def _lifted(verdict, covered):
    # The suite's fake verdict has no blockers to lift.
    return verdict.overridden(covered) if covered and hasattr(verdict, "overridden") else verdict


def _screening_check(
    *,
    client: Client,
    massage_type: MassageType,
    day: datetime.date,
    override_reason: str,
    user,
    covered: frozenset[str] = frozenset(),
    course=None,
    await_clearance: bool = False,
    raw=None,
) -> ScreeningCheck:
    """Judge a booking: allowed; blocked (a manager may write an override of exactly the blocks present
    now, `covered` being what earlier overrides of the appointment cover); needing a clearance or a
    screening (refused, or booked awaiting it when `await_clearance`). `raw`: the verdict when the caller
    has it already (a course's, read for all its days at once)."""
    if raw is None:
        raw = _verdict(client=client, massage_type=massage_type, day=day, course=course)
    verdict = _lifted(raw, covered)
    # The reasons name findings: health data, for those who may see the client's record only.
    shows_reasons = bool(user) and can_view_health_record(user, client)

    def reasons_of(judged) -> dict:
        reasons = "; ".join(str(reason) for reason in getattr(judged, "reasons", ()) or ()) if shows_reasons else ""
        return {"reasons": f" ({reasons})" if reasons else ""}

    params = reasons_of(verdict)
    status = _status_name(verdict)
    check = ScreeningCheck()
    if status == "BLOCKED":
        if not user or not user.has_perm(OVERRIDE_PERMISSION):
            return ScreeningCheck([_("Massage is contraindicated%(reasons)s; only a manager may override.") % params])
        if not override_reason.strip():
            return ScreeningCheck(
                [_("Massage is contraindicated%(reasons)s; write the reason for the override.") % params]
            )
        check.override_of = raw
        # The override lifts the blocks, never a missing clearance or screening.
        codes = [b.code for b in getattr(raw, "blockers", ())]
        verdict = raw.overridden(codes) if codes and hasattr(raw, "overridden") else None
        if verdict is None:
            return check
        status = _status_name(verdict)
        params = reasons_of(verdict)
    if status in ("ALLOWED", "ADAPTED"):
        return check
    if status in ("NEEDS_CLEARANCE", "NEEDS_SCREENING") and await_clearance:
        # Pencilled in: the slot is kept, the session cannot start, and it becomes booked by itself once the
        # screening (a new caller answers it by the emailed link) or the clearance makes it bookable.
        check.awaiting = True
        return check
    if status == "NEEDS_CLEARANCE":
        return ScreeningCheck([_("A doctor's clearance must be recorded first%(reasons)s.") % params])
    if status == "NEEDS_SCREENING":
        return ScreeningCheck([_("The client needs an up-to-date screening first%(reasons)s.") % params])
    # A status this code does not know refuses rather than lets through.
    return ScreeningCheck([_("The screening does not allow this booking%(reasons)s.") % params])


# --- constraint errors --------------------------------------------------------------------------


def _constraint_error(exc: Exception, *, masseur: Masseur, room: Room) -> ValidationError | None:
    """The friendly ValidationError for a constraint a concurrent booking tripped, or None."""
    text = str(exc)
    if "treatments_appointment_masseur_no_overlap" in text:
        return ValidationError({"masseur": masseur_busy_message(masseur)})
    if "treatments_appointment_room_no_overlap" in text:
        return ValidationError({"room": room_busy_message(room)})
    if "treatments_appointment_client_no_overlap" in text:
        return ValidationError({"client": client_busy_message()})
    return None


def _save_guarded(appointment: Appointment) -> None:
    """Save; a race lost on an exclusion constraint becomes the same message the checks give. No savepoint
    of its own: every caller raises out of its transaction.atomic() block, which rolls back."""
    try:
        appointment.save()
    except IntegrityError as exc:
        error = _constraint_error(exc, masseur=appointment.masseur, room=appointment.room)
        if error is None:
            raise
        raise error from exc
    except OperationalError as exc:
        # Two bookings waiting on each other's rows (a deadlock): PostgreSQL
        # rolled one back; nothing was written, the person may simply retry.
        if "deadlock" not in str(exc).lower():
            raise
        raise ValidationError(
            {NON_FIELD_ERRORS: _("Another booking took this time at the same moment; please try again.")}
        ) from exc


# --- single appointments ------------------------------------------------------------------------


def appointment_book(
    *,
    client: Client,
    massage_type: MassageType,
    masseur: Masseur,
    room: Room,
    starts_at: datetime.datetime,
    booked_by: AbstractBaseUser,
    course: Course | None = None,
    override_reason: str = "",
    request_key: uuid.UUID | None = None,
    await_clearance: bool = False,
    course_facts=None,
    reserve_until: datetime.datetime | None = None,
    channel: str = Appointment.Channel.DESK,
) -> Appointment:
    """Book one session: the masseur, the room and the client are free for it and its rest, the
    masseur works then and is qualified, the screening allows it (a manager's written override covers
    the blocks present now; with `await_clearance` a missing doctor's clearance books it "awaiting
    clearance"). A session of a course is judged as such (`course_facts`: the course's start and
    length, looked up when not given). The same request_key returns the first booking.

    With `reserve_until` (online booking) the time is only held, RESERVED until then: every check but
    the screening's, which sessions.online asks when the client confirms."""
    if request_key is not None:
        existing = Appointment.objects.filter(request_key=request_key).first()
        if existing is not None:
            return _same_request(existing, client=client)
    try:
        with transaction.atomic():
            appointment = _book(
                client=client,
                massage_type=massage_type,
                masseur=masseur,
                room=room,
                starts_at=starts_at,
                booked_by=booked_by,
                course=course,
                override_reason=override_reason,
                request_key=request_key,
                await_clearance=await_clearance,
                course_facts=course_facts,
                reserve_until=reserve_until,
                channel=channel,
            )
            # A course's sessions are planned by course_book, once all of them are booked; a held time when
            # the client confirms it.
            if course is None and reserve_until is None:
                _reminders().send_on_commit(_planning().plan_booked(appointment))
    except IntegrityError as exc:
        # The same request submitted twice at once for other times: the other one won.
        if request_key is not None and "request_key" in str(exc):
            return _same_request(Appointment.objects.get(request_key=request_key), client=client)
        raise
    return appointment


def _reminders():
    # Imported late: the tasks module imports Celery, which sessions.booking.services must not need at import time.
    from sessions.reminders import tasks as tasks_reminders

    return tasks_reminders


def _planning():
    from sessions.reminders import planning as reminders

    return reminders


def _book(
    *,
    client,
    massage_type,
    masseur,
    room,
    starts_at,
    booked_by,
    course,
    override_reason,
    request_key,
    await_clearance=False,
    course_facts=None,
    reserve_until=None,
    channel=Appointment.Channel.DESK,
):
    ends_at = starts_at + datetime.timedelta(minutes=massage_type.duration_minutes)
    blocks_until = ends_at + datetime.timedelta(minutes=massage_type.buffer_minutes)
    if timezone.is_aware(starts_at):
        # Before the clash check: a booking racing for the same masseur, room or client day waits here.
        locks.lock_slot(
            masseur_id=masseur.pk, room_id=room.pk, client_id=client.pk, starts_at=starts_at, blocks_until=blocks_until
        )
    errors = appointment_conflicts(
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        room=room,
        starts_at=starts_at,
        may_book_closed=_may_book_closed(booked_by),
    )
    if errors and request_key is not None:
        # The same request submitted twice at once: the first one, which this one waited for, won.
        existing = Appointment.objects.filter(request_key=request_key).first()
        if existing is not None:
            return _same_request(existing, client=client)
    if course is not None and (course.client_id != client.pk or course.massage_type_id != massage_type.pk):
        errors.setdefault("course", []).append(_("The course is of another client or massage type."))
    check = ScreeningCheck()
    if reserve_until is None and ("starts_at" not in errors or timezone.is_aware(starts_at)):
        if course is not None and course_facts is None and timezone.is_aware(starts_at):
            course_facts = gate.facts_of_course(course, also=starts_at)
        check = _screening_check(
            client=client,
            massage_type=massage_type,
            day=local_date(starts_at) if timezone.is_aware(starts_at) else starts_at.date(),
            override_reason=override_reason,
            user=booked_by,
            course=course_facts,
            await_clearance=await_clearance,
        )
        if check.refusals:
            errors.setdefault(NON_FIELD_ERRORS, []).extend(check.refusals)
    if errors:
        raise ValidationError(errors)

    appointment = _new_appointment(
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        room=room,
        starts_at=starts_at,
        course=course,
        check=check,
        booked_by=booked_by,
        request_key=request_key,
        reserve_until=reserve_until,
        channel=channel,
    )
    _save_guarded(appointment)
    if check.override_of is not None:
        gate.override_record(appointment=appointment, verdict=check.override_of, reason=override_reason, by=booked_by)
    return appointment


# Loaded objects the caller passed: full_clean need not look each one up again.
_ALREADY_LOADED = ["course", "client", "massage_type", "masseur", "room", "booked_by", "cancelled_by"]


def _new_appointment(
    *, client, massage_type, masseur, room, starts_at, course, check, booked_by, request_key, reserve_until, channel
) -> Appointment:
    """The appointment to insert, validated field by field (the checks above covered the rest)."""
    ends_at = starts_at + datetime.timedelta(minutes=massage_type.duration_minutes)
    appointment = Appointment(
        course=course,
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        room=room,
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + datetime.timedelta(minutes=massage_type.buffer_minutes),
        status=Appointment.Status.AWAITING_CLEARANCE if check.awaiting else Appointment.Status.BOOKED,
        booked_by=booked_by,
        request_key=request_key,
        channel=channel,
    )
    if reserve_until is not None:
        appointment.status = Appointment.Status.RESERVED
        appointment.reserved_until = reserve_until
    # The overlap constraints were checked above for the message, and the database enforces them on
    # insert; validating them again, or looking up the related rows the caller passed, costs queries.
    appointment.full_clean(exclude=_ALREADY_LOADED, validate_constraints=False, validate_unique=False)
    return appointment


def _may_book_closed(user) -> bool:
    return bool(user) and user.has_perm(BOOK_ON_CLOSED_DAY)


def _same_request(existing, *, client: Client):
    if existing.client_id != client.pk:
        raise ValidationError({NON_FIELD_ERRORS: _("This form was already used for another booking.")})
    return existing


class MoveResult(NamedTuple):
    appointment: Appointment
    warnings: list[str]


def appointment_move(
    *,
    appointment: Appointment,
    starts_at: datetime.datetime,
    masseur: Masseur | None = None,
    room: Room | None = None,
    moved_by: AbstractBaseUser,
    override_reason: str = "",
) -> MoveResult:
    """Move an upcoming appointment (and, optionally, to another masseur or room) under the booking rules;
    returns it with gap warnings for its course."""
    with transaction.atomic():
        appointment = (
            # Its own row only, and no key update: locking the massage type and client rows too made every
            # booking of that type wait at its commit (the foreign keys' check) for a move that was itself
            # waiting for that booking's locks: a deadlock.
            Appointment.objects.select_for_update(of=("self",), no_key=True)
            .select_related("massage_type", "client")
            .get(pk=appointment.pk)
        )
        if appointment.status not in Appointment.UPCOMING:
            raise ValidationError({"status": _("Only an upcoming appointment can be moved.")})
        masseur = masseur or appointment.masseur
        room = room or appointment.room
        if timezone.is_aware(starts_at):
            # The same locks a booking takes, so a move and a booking racing for one time queue up.
            type_ = appointment.massage_type
            locks.lock_slot(
                masseur_id=masseur.pk,
                room_id=room.pk,
                client_id=appointment.client_id,
                starts_at=starts_at,
                blocks_until=starts_at + datetime.timedelta(minutes=type_.duration_minutes + type_.buffer_minutes),
            )
        errors = appointment_conflicts(
            client=appointment.client,
            massage_type=appointment.massage_type,
            masseur=masseur,
            room=room,
            starts_at=starts_at,
            exclude_pk=appointment.pk,
            may_book_closed=_may_book_closed(moved_by),
        )
        check = ScreeningCheck()
        if timezone.is_aware(starts_at):
            # Judged on the new day, with what the appointment's overrides already cover; a session
            # awaiting clearance may move while it still awaits it.
            check = _screening_check(
                client=appointment.client,
                massage_type=appointment.massage_type,
                day=local_date(starts_at),
                override_reason=override_reason,
                user=moved_by,
                covered=gate.covered_codes(appointment),
                course=gate.facts_of_course(appointment.course, also=starts_at) if appointment.course_id else None,
                await_clearance=appointment.status == Appointment.Status.AWAITING_CLEARANCE,
            )
            if check.refusals:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(check.refusals)
        if errors:
            raise ValidationError(errors)

        duration = datetime.timedelta(minutes=appointment.massage_type.duration_minutes)
        buffer = datetime.timedelta(minutes=appointment.massage_type.buffer_minutes)
        _freed_on_commit(appointment, why="moved")
        appointment.starts_at = starts_at
        appointment.ends_at = starts_at + duration
        appointment.blocks_until = starts_at + duration + buffer
        appointment.masseur = masseur
        appointment.room = room
        # The client's calendar replaces its event only for a higher SEQUENCE.
        appointment.calendar_sequence += 1
        if appointment.status == Appointment.Status.AWAITING_CLEARANCE and not check.awaiting:
            # On the new day a clearance covers it: bookable as any other.
            appointment.status = Appointment.Status.BOOKED
        appointment.full_clean(validate_constraints=False, validate_unique=False)
        _save_guarded(appointment)
        if check.override_of is not None:
            gate.override_record(
                appointment=appointment, verdict=check.override_of, reason=override_reason, by=moved_by
            )
        warnings = (
            course_gap_warnings(course=appointment.course, starts_at=starts_at, exclude_pk=appointment.pk)
            if appointment.course_id
            else []
        )
        _reminders().send_on_commit(_planning().plan_moved(appointment))
    return MoveResult(appointment, warnings)


def appointment_cancel(*, appointment: Appointment, reason: str, by: AbstractBaseUser) -> Appointment:
    """Cancel an upcoming appointment with a reason, freeing its masseur and room; cancelling twice is a no-op."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the appointment is cancelled.")})
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == Appointment.Status.CANCELLED:
            return appointment
        if appointment.status not in Appointment.UPCOMING:
            raise ValidationError(
                {
                    "status": _("A %(status)s appointment cannot be cancelled.")
                    % {"status": appointment.get_status_display()}
                }
            )
        _cancel(appointment, reason=reason, by=by)
        _reminders().send_on_commit(_planning().plan_cancelled(appointment))
    return appointment


def _freed_on_commit(appointment: Appointment, *, why: str, starts_at: datetime.datetime | None = None) -> None:
    # The waiting list listens (sessions.booking.freed): the time it held, from `starts_at` on.
    freed.notify_on_commit(
        masseur_id=appointment.masseur_id,
        room_id=appointment.room_id,
        starts_at=starts_at or appointment.starts_at,
        blocks_until=appointment.blocks_until,
        why=why,
    )


def _cancel(appointment: Appointment, *, reason: str, by) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancellation_reason = reason.strip()
    appointment.cancelled_by = by
    appointment.cancelled_at = timezone.now()
    # The cancellation is a new revision of the client's calendar event (METHOD:CANCEL).
    appointment.calendar_sequence += 1
    appointment.save(
        update_fields=["status", "cancellation_reason", "cancelled_by", "cancelled_at", "calendar_sequence"]
    )
    if appointment.starts_at > appointment.cancelled_at:
        _freed_on_commit(appointment, why="cancelled")


def appointment_mark_no_show(*, appointment: Appointment, by: AbstractBaseUser) -> Appointment:
    """Mark an appointment whose time has come as a no-show, freeing the rest of its slot; twice is a no-op."""
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == Appointment.Status.NO_SHOW:
            return appointment
        if appointment.status not in Appointment.UPCOMING:
            raise ValidationError(
                {
                    "status": _("A %(status)s appointment cannot be a no-show.")
                    % {"status": appointment.get_status_display()}
                }
            )
        if appointment.starts_at > timezone.now():
            raise ValidationError({"status": _("The appointment has not started yet.")})
        appointment.status = Appointment.Status.NO_SHOW
        appointment.cancelled_by = by
        appointment.cancelled_at = timezone.now()
        appointment.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        if appointment.blocks_until > appointment.cancelled_at:
            # Marked early: the rest of its time is free.
            _freed_on_commit(appointment, why="no_show", starts_at=appointment.cancelled_at)
    return appointment


# --- courses ------------------------------------------------------------------------------------


@dataclass
class ProposedSession:
    number: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    masseur: Masseur | None
    room: Room | None
    # Why it cannot be booked as proposed; empty when it can.
    conflicts: list[str] = field(default_factory=list)
    # Worth a look but bookable: a long gap, another time or masseur than asked for.
    warnings: list[str] = field(default_factory=list)

    @property
    def is_bookable(self) -> bool:
        return not self.conflicts


def _validate_course_request(
    *, start_date: datetime.date | None, planned_sessions: int, cadence: str, weekdays: Sequence[int]
) -> None:
    errors: dict[str, list[str]] = {}
    if start_date is not None and start_date < timezone.localdate():
        errors["start_date"] = [_("The course cannot start in the past.")]
    if not 1 <= planned_sessions <= 30:
        errors["planned_sessions"] = [_("A course has from 1 to 30 sessions.")]
    if cadence not in Course.Cadence.values:
        errors["cadence"] = [_("Choose how often the sessions go.")]
    if cadence == Course.Cadence.WEEKDAYS and not weekdays:
        errors["weekdays"] = [_("Choose at least one weekday.")]
    if any(day not in range(7) for day in weekdays):
        errors["weekdays"] = [_("A weekday is a number from 0 (Monday) to 6 (Sunday).")]
    if errors:
        raise ValidationError(errors)


def _next_day(day: datetime.date, *, cadence: str, weekdays: Sequence[int], first: bool) -> datetime.date:
    """The next date the cadence allows after `day` (or on it, for the first session)."""
    if cadence == Course.Cadence.WEEKDAYS:
        day = day if first else day + datetime.timedelta(days=1)
        while day.weekday() not in weekdays:
            day += datetime.timedelta(days=1)
        return day
    if first:
        return day
    return day + datetime.timedelta(days=1 if cadence == Course.Cadence.DAILY else 2)


def _local_instant(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """A real instant for a local wall time: its first occurrence when it repeats, past the gap if it never exists."""
    naive = datetime.datetime.combine(day, at)
    instant = naive.replace(tzinfo=kyiv(), fold=0).astimezone(datetime.UTC)
    return instant


def _minutes_from(slot_start: datetime.datetime, target: datetime.time) -> int:
    local = slot_start.astimezone(kyiv())
    return abs((local.hour * 60 + local.minute) - (target.hour * 60 + target.minute))


def course_propose(
    *,
    client: Client | None,
    massage_type: MassageType,
    start_date: datetime.date,
    planned_sessions: int,
    cadence: str,
    weekdays: Sequence[int] = (),
    masseur: Masseur | None = None,
    preferred_time: datetime.time | None = None,
    step_minutes: int = 15,
    exclude_appointment_pks: Collection[int] = (),
) -> list[ProposedSession]:
    """A whole course schedule from free slots: the same masseur at about the same local time, on
    the days the cadence allows, the parlor is open and someone qualified works; each session with its
    conflicts and warnings (why it differs from what was asked). With no masseur chosen the asked time
    comes first: another qualified masseur (or room) at that time before another time. Nine queries
    whatever the length of the course. No client (a preview before the online
    sign-in): nobody's own appointments are avoided. `exclude_appointment_pks`: as if those were not
    booked (the holds a new online hold replaces)."""
    _validate_course_request(
        start_date=start_date, planned_sessions=planned_sessions, cadence=cadence, weekdays=weekdays
    )
    if masseur is not None and not masseur.qualifications.filter(pk=massage_type.pk).exists():
        raise ValidationError(
            {"masseur": _("%(masseur)s is not qualified for %(type)s.") % {"masseur": masseur, "type": massage_type}}
        )
    tz = kyiv()
    horizon = start_date + datetime.timedelta(days=availability.MAX_RANGE_DAYS)

    # Which weekdays the masseur (or, with none chosen, anybody qualified) works, and their time off.
    hours_qs = WorkingHours.objects.filter(masseur__is_active=True, masseur__qualifications=massage_type)
    off_qs = TimeOff.objects.filter(
        starts_at__lt=availability.local_day_bounds(horizon, tz)[1],
        ends_at__gt=availability.local_day_bounds(start_date, tz)[0],
    )
    if masseur is not None:
        hours_qs = hours_qs.filter(masseur=masseur)
        off_qs = off_qs.filter(masseur=masseur)
    hours_by_masseur: dict[int, dict[int, list[tuple[datetime.time, datetime.time]]]] = {}
    for masseur_id, weekday, starts, ends in hours_qs.values_list("masseur_id", "weekday", "starts", "ends"):
        hours_by_masseur.setdefault(masseur_id, {}).setdefault(weekday, []).append((starts, ends))
    off_by_masseur: dict[int, list[availability.Interval]] = {}
    for masseur_id, starts_at, ends_at in off_qs.values_list("masseur_id", "starts_at", "ends_at"):
        off_by_masseur.setdefault(masseur_id, []).append((starts_at, ends_at))
    closed = closures.closed_days(start_date, horizon)

    def works(day: datetime.date) -> bool:
        if day in closed:
            return False
        for masseur_id, week in hours_by_masseur.items():
            off = availability.merge(off_by_masseur.get(masseur_id, []))
            for lo, hi in availability.working_intervals(day, week.get(day.weekday(), []), tz):
                if not any(o_lo <= lo and hi <= o_hi for o_lo, o_hi in off):
                    return True
        return False

    days: list[datetime.date] = []
    day = _next_day(start_date, cadence=cadence, weekdays=weekdays, first=True)
    while len(days) < planned_sessions and day <= horizon:
        if works(day):
            days.append(day)
            day = _next_day(day, cadence=cadence, weekdays=weekdays, first=False)
        else:
            # Skip a day the parlor is closed or nobody works; the cadence resumes from the next allowed day.
            day = _next_day(day + datetime.timedelta(days=1), cadence=cadence, weekdays=weekdays, first=True)

    data = availability.load(
        massage_type=massage_type,
        days=days,
        closed=frozenset(closed),
        exclude_appointment_pks=exclude_appointment_pks,
    )
    client_busy = availability.merge(
        Appointment.objects.filter(
            client=client, starts_at__gte=availability.local_day_bounds(start_date, tz)[0] - availability.MAX_BLOCK
        )
        .exclude(status__in=Appointment.NOT_LIVE)
        # None excluded (every caller but online booking): the same query, Django drops an empty IN.
        .exclude(pk__in=exclude_appointment_pks)
        .values_list("starts_at", "blocks_until")
        if client is not None
        else []
    )
    duration = datetime.timedelta(minutes=massage_type.duration_minutes)
    buffer = datetime.timedelta(minutes=massage_type.buffer_minutes)
    now = timezone.now()
    target = preferred_time
    # With no masseur chosen: the one who takes the first session, kept while free at the time.
    course_masseur: Masseur | None = masseur
    course_room: Room | None = None
    proposals: list[ProposedSession] = []
    step = datetime.timedelta(minutes=step_minutes)

    def slots_of(day: datetime.date, masseur_ids=None, only_at=None) -> list[availability.Slot]:
        # One room a slot (the course's own when free): the proposal books one, and trying all 26 for
        # every start was most of the work.
        return [
            slot
            for slot in availability.slots_for_day(
                data,
                day,
                duration=duration,
                buffer=buffer,
                step=step,
                now=now,
                masseur_ids=masseur_ids,
                one_room=True,
                prefer_room_id=course_room.pk if course_room is not None else None,
                only_at=only_at,
            )
            if not availability.overlaps_any(client_busy, slot.starts_at, slot.blocks_until)
        ]

    def others_of(day: datetime.date, at: datetime.time | None = None) -> list[availability.Slot]:
        # `at`: only at that local time (both instants when the clocks repeat it).
        only_at = None
        if at is not None:
            naive = datetime.datetime.combine(day, at)
            only_at = frozenset(naive.replace(tzinfo=tz, fold=fold).astimezone(datetime.UTC) for fold in (0, 1))
        return slots_of(day, [pk for pk in data.masseurs if pk != masseur.pk], only_at)

    for number, day in enumerate(days, start=1):
        if masseur is not None:
            # The chosen masseur's own slots; the others' only when needed (a full day, a taken time).
            own = slots_of(day, [masseur.pk])
            slots = own or others_of(day)
        else:
            slots = slots_of(day)
            own = [slot for slot in slots if course_masseur is None or slot.masseur.pk == course_masseur.pk]
        warnings: list[str] = []
        if slots:
            if masseur is not None:
                # A masseur the client asked for: theirs at the nearest time, another only when they are full.
                pool = own or slots
                best = min(pool, key=lambda s: (_minutes_from(s.starts_at, target) if target else 0, s.starts_at))
            else:
                # Any masseur: the asked time first, the course's masseur at it if free, then anybody at it.
                best = min(
                    slots,
                    key=lambda s: (
                        _minutes_from(s.starts_at, target) if target else 0,
                        course_masseur is not None and s.masseur.pk != course_masseur.pk,
                        s.starts_at,
                    ),
                )
            if target is None:
                local = best.starts_at.astimezone(tz)
                target = datetime.time(local.hour, local.minute)
            asked = target.strftime("%H:%M")
            free_at = best.starts_at.astimezone(tz).strftime("%H:%M")
            if masseur is not None and not own:
                warnings.append(
                    _("%(masseur)s is fully booked that day; %(other)s is free.")
                    % {"masseur": masseur.display_name, "other": best.masseur.display_name}
                )
            elif masseur is None and course_masseur is not None and best.masseur.pk != course_masseur.pk:
                warnings.append(
                    _("%(masseur)s is not free at %(time)s; %(other)s is.")
                    % {"masseur": course_masseur.display_name, "time": free_at, "other": best.masseur.display_name}
                )
            if _minutes_from(best.starts_at, target):
                if masseur is None:
                    warnings.append(
                        _("Nobody qualified is free at %(time)s that day; the nearest free time is %(free)s.")
                        % {"time": asked, "free": free_at}
                    )
                else:
                    warnings.append(
                        _("%(time)s is taken; the nearest free time is %(free)s.") % {"time": asked, "free": free_at}
                    )
                    others = sorted(
                        {
                            s.masseur.display_name
                            for s in (others_of(day, target) if own else slots)
                            if s.masseur.pk != masseur.pk and not _minutes_from(s.starts_at, target)
                        }
                    )
                    if others:
                        warnings.append(
                            _("At %(time)s %(others)s is free.") % {"time": asked, "others": ", ".join(others)}
                        )
            if course_masseur is None:
                course_masseur = best.masseur
            # The same room as the course's first session when it is free, else the first free one.
            room = next((r for r in best.rooms if course_room is not None and r.pk == course_room.pk), best.room)
            course_room = course_room or room
            proposal = ProposedSession(number, best.starts_at, best.ends_at, best.masseur, room, [], warnings)
        else:
            starts_at = _local_instant(day, target or datetime.time(9, 0))
            proposal = ProposedSession(
                number, starts_at, starts_at + duration, masseur, None, [_("No free time on this day.")], warnings
            )
        if proposals:
            previous = local_date(proposals[-1].starts_at)
            gap = (day - previous).days
            if gap > MAX_GAP_DAYS:
                proposal.warnings.append(gap_warning(gap))
                between = [d for d in sorted(closed) if previous < d < day]
                if between:
                    proposal.warnings.append(_closed_days_warning(between, closed))
        proposals.append(proposal)
    if len(proposals) < planned_sessions:
        raise ValidationError(
            {"masseur": _("Only %(count)s working days in the next year.") % {"count": len(proposals)}}
        )
    return proposals


def _closed_days_warning(days: Sequence[datetime.date], closed: dict) -> str:
    """Why the gap is longer than the cadence: the parlor is closed on these days (and why)."""
    names = closures.public_holidays(days[0], days[-1])
    parts = []
    for day in days:
        reason = closures.closed_reason(closed[day], names)
        parts.append(f"{weekday_day(day)} ({reason})" if reason else weekday_day(day))
    return _("The parlor is closed on %(days)s.") % {"days": "; ".join(parts)}


class SessionChoice(NamedTuple):
    starts_at: datetime.datetime
    masseur: Masseur
    room: Room


class SessionFailure(NamedTuple):
    number: int
    starts_at: datetime.datetime
    messages: list[str]


class CourseBookingError(ValidationError):
    """Nothing of the course was booked; `failures` says which sessions failed and why."""

    def __init__(self, failures: list[SessionFailure]):
        self.failures = failures
        super().__init__(
            {
                "sessions": [
                    _("Session %(number)s at %(when)s: %(problems)s")
                    % {
                        "number": failure.number,
                        "when": when(failure.starts_at),
                        "problems": " ".join(failure.messages),
                    }
                    for failure in failures
                ]
            }
        )


def course_book(
    *,
    client: Client,
    massage_type: MassageType,
    indication: str,
    planned_sessions: int,
    cadence: str,
    weekdays: Sequence[int] = (),
    preferred_masseur: Masseur | None = None,
    preferred_time: datetime.time | None = None,
    sessions: Sequence[SessionChoice | tuple[datetime.datetime, Masseur, Room]],
    booked_by: AbstractBaseUser,
    override_reason: str = "",
    request_key: uuid.UUID | None = None,
    await_clearance: bool = False,
    reserve_until: datetime.datetime | None = None,
    channel: str = Appointment.Channel.DESK,
) -> Course:
    """Create a course and book all its sessions in one transaction, or nothing: a CourseBookingError
    lists every session that failed and why. Its sessions are judged as a course: it starts only on a
    screening within the limit, and the later ones stay bookable while it runs. With `await_clearance`,
    a session that needs a doctor's clearance is booked awaiting it. The same request_key returns the
    first course. With `reserve_until` every session is only held (see appointment_book)."""
    if request_key is not None:
        existing = Course.objects.filter(request_key=request_key).first()
        if existing is not None:
            return _same_request(existing, client=client)
    _validate_course_request(start_date=None, planned_sessions=planned_sessions, cadence=cadence, weekdays=weekdays)
    if not 1 <= len(sessions) <= planned_sessions:
        raise ValidationError({"sessions": _("Book from 1 to %(planned)s sessions.") % {"planned": planned_sessions}})
    course = Course(
        client=client,
        massage_type=massage_type,
        indication=indication,
        planned_sessions=planned_sessions,
        cadence=cadence,
        weekdays=list(weekdays) if cadence == Course.Cadence.WEEKDAYS else [],
        preferred_masseur=preferred_masseur,
        preferred_time=preferred_time,
        created_by=booked_by,
        request_key=request_key,
    )
    # _validate_course_request checked what the course's constraints check (the insert checks them again), and
    # the client, type, masseur and user are loaded: validating those again costs a query each.
    course.full_clean(
        exclude=["client", "massage_type", "preferred_masseur", "created_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    ordered = sorted((SessionChoice(*choice) for choice in sessions), key=lambda choice: choice.starts_at)
    facts = gate.course_facts(course, starts_on=local_date(ordered[0].starts_at)) if ordered else None
    try:
        with transaction.atomic():
            course.save()
            _book_sessions(
                client=client,
                massage_type=massage_type,
                course=course,
                ordered=ordered,
                booked_by=booked_by,
                override_reason=override_reason,
                await_clearance=await_clearance,
                facts=facts,
                reserve_until=reserve_until,
                channel=channel,
            )
            if reserve_until is None:
                _reminders().send_on_commit(_planning().plan_course_booked(course))
    except IntegrityError as exc:
        if request_key is not None and "request_key" in str(exc):
            return _same_request(Course.objects.get(request_key=request_key), client=client)
        raise
    course.refresh_from_db()
    return course


def _session_keys(*, client_id: int, massage_type: MassageType, ordered: Sequence[SessionChoice]) -> set[locks.Key]:
    span = datetime.timedelta(minutes=massage_type.duration_minutes + massage_type.buffer_minutes)
    return {
        key
        for choice in ordered
        if timezone.is_aware(choice.starts_at)
        for key in locks.slot_keys(
            masseur_id=choice.masseur.pk,
            room_id=choice.room.pk,
            client_id=client_id,
            starts_at=choice.starts_at,
            blocks_until=choice.starts_at + span,
        )
    }


def _book_sessions(
    *,
    client: Client,
    massage_type: MassageType,
    course: Course,
    ordered: Sequence[SessionChoice],
    booked_by,
    override_reason: str = "",
    await_clearance: bool = False,
    facts=None,
    reserve_until: datetime.datetime | None = None,
    channel: str = Appointment.Channel.DESK,
    keys: Sequence[uuid.UUID] = (),
) -> list[Appointment]:
    """Book the sessions of a course as a set, under every rule appointment_book applies to one: their
    locks, then one clash check and the verdicts of all their days at once, then one INSERT (each row still
    through the exclusion constraints). All or nothing: a CourseBookingError lists each session that
    failed and why. Reminders are the caller's."""
    aware = [choice for choice in ordered if timezone.is_aware(choice.starts_at)]
    locks.lock(_session_keys(client_id=client.pk, massage_type=massage_type, ordered=ordered))
    checks = [SessionToCheck(choice.starts_at, choice.masseur, choice.room) for choice in ordered]
    conflicts = sessions_conflicts(
        client=client, massage_type=massage_type, sessions=checks, may_book_closed=_may_book_closed(booked_by)
    )
    verdicts = {}
    if reserve_until is None and aware:
        verdicts = _verdicts(
            client=client,
            massage_type=massage_type,
            days=[local_date(choice.starts_at) for choice in aware],
            course=facts,
        )
    failures, new = [], []
    for number, (choice, errors) in enumerate(zip(ordered, conflicts, strict=True), start=1):
        check = ScreeningCheck()
        if reserve_until is None and timezone.is_aware(choice.starts_at):
            check = _screening_check(
                client=client,
                massage_type=massage_type,
                day=local_date(choice.starts_at),
                override_reason=override_reason,
                user=booked_by,
                course=facts,
                await_clearance=await_clearance,
                raw=verdicts[local_date(choice.starts_at)],
            )
            if check.refusals:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(check.refusals)
        if errors:
            failures.append(SessionFailure(number, choice.starts_at, ValidationError(errors).messages))
            continue
        try:
            appointment = _new_appointment(
                client=client,
                massage_type=massage_type,
                masseur=choice.masseur,
                room=choice.room,
                starts_at=choice.starts_at,
                course=course,
                check=check,
                booked_by=booked_by,
                request_key=keys[number - 1] if keys else None,
                reserve_until=reserve_until,
                channel=channel,
            )
        except ValidationError as exc:
            failures.append(SessionFailure(number, choice.starts_at, exc.messages))
            continue
        new.append((appointment, check))
    if failures:
        raise CourseBookingError(failures)
    appointments = [appointment for appointment, _check in new]
    try:
        # A savepoint, so that a constraint tripped by a writer outside the locks still lets the
        # clash check below name the session.
        with transaction.atomic():
            Appointment.objects.bulk_create(appointments)
    except IntegrityError as exc:
        if _constraint_error(exc, masseur=ordered[0].masseur, room=ordered[0].room) is None:
            raise
        conflicts = sessions_conflicts(
            client=client, massage_type=massage_type, sessions=checks, may_book_closed=_may_book_closed(booked_by)
        )
        failures = [
            SessionFailure(number, choice.starts_at, ValidationError(errors).messages)
            for number, (choice, errors) in enumerate(zip(ordered, conflicts, strict=True), start=1)
            if errors
        ]
        raise CourseBookingError(failures or [SessionFailure(1, ordered[0].starts_at, [str(exc)])]) from exc
    for appointment, check in new:
        if check.override_of is not None:
            gate.override_record(
                appointment=appointment, verdict=check.override_of, reason=override_reason, by=booked_by
            )
    return appointments


def course_cancel_rest(*, course: Course, reason: str, by: AbstractBaseUser) -> int:
    """Cancel every upcoming session of the course from now on and mark it cancelled; returns how many."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the course is cancelled.")})
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)
        upcoming = list(
            course.appointments.select_for_update()
            .filter(status__in=Appointment.UPCOMING, starts_at__gte=timezone.now())
            .order_by("starts_at")
        )
        for appointment in upcoming:
            _cancel(appointment, reason=reason, by=by)
        if course.status != Course.Status.CANCELLED:
            course.status = Course.Status.CANCELLED
            course.save(update_fields=["status"])
        _reminders().send_on_commit(_planning().plan_course_cancelled(course, upcoming))
    return len(upcoming)


# --- changing a booked course -------------------------------------------------------------------

# Appended below the imports while another change edits this file: move it up into the
# `from sessions.models import ...` line when convenient.


def course_extend(
    *,
    course: Course,
    sessions: Sequence[SessionChoice | tuple[datetime.datetime, Masseur, Room]],
    booked_by: AbstractBaseUser,
    override_reason: str = "",
    request_key: uuid.UUID | None = None,
) -> Course:
    """Book more sessions into a course, all or none (a CourseBookingError lists what failed), and raise its
    planned sessions by as many, at most MAX_COURSE_SESSIONS; a completed course becomes active again. The
    same request_key returns the course as the first request left it."""
    if not sessions:
        raise ValidationError({"sessions": _("Choose at least one session to add.")})
    # In time order, like course_book: the failure report numbers the sessions by time.
    ordered = sorted((SessionChoice(*choice) for choice in sessions), key=lambda choice: choice.starts_at)
    # One key per session, derived from the form's, so a second submit finds what the first booked.
    keys = [uuid.uuid5(request_key, str(number)) for number in range(1, len(ordered) + 1)] if request_key else []
    with transaction.atomic():
        # The booking locks before the course's row lock, as every writer takes them (sessions.booking.locks):
        # a new online hold frees a held course, deleting its row, while holding them. The client and the
        # type of a course never change, so the caller's copy gives the same keys as the locked row.
        locks.lock(_session_keys(client_id=course.client_id, massage_type=course.massage_type, ordered=ordered))
        # Then the course's row: two submits of one form, or two extensions at once, take turns (already at
        # the booking locks when their sessions share a key), so the second sees the first one's sessions
        # and planned count.
        course = (
            # Only the course row: the client and massage type stay free for other bookings.
            # No key update: a booking of a single session into the course (its FOR KEY SHARE check) is not
            # held up by it while holding a booking lock this extension waits for.
            Course.objects.select_for_update(of=("self",), no_key=True)
            .select_related("client", "massage_type")
            .get(pk=course.pk)
        )
        if keys:
            done_before = Appointment.objects.filter(request_key__in=keys).values_list("course_id", flat=True).first()
            if done_before is not None:
                if done_before != course.pk:
                    raise ValidationError({NON_FIELD_ERRORS: _("This form was already used for another booking.")})
                return course
        if course.status == Course.Status.CANCELLED:
            raise ValidationError({NON_FIELD_ERRORS: _("The course is cancelled.")})
        live = course.appointments.exclude(status__in=Appointment.NOT_LIVE).count()
        # Sessions booked past the plan by an older extension count as planned already.
        already = max(course.planned_sessions, live)
        if already + len(ordered) > MAX_COURSE_SESSIONS:
            raise ValidationError(
                {
                    "count": _("Sessions that can still be added: %(left)s (a course has at most %(max)s).")
                    % {"left": max(MAX_COURSE_SESSIONS - already, 0), "max": MAX_COURSE_SESSIONS}
                }
            )
        booked = _book_sessions(
            client=course.client,
            massage_type=course.massage_type,
            course=course,
            ordered=ordered,
            booked_by=booked_by,
            override_reason=override_reason,
            facts=gate.facts_of_course(course, also=ordered[0].starts_at)
            if timezone.is_aware(ordered[0].starts_at)
            else None,
            keys=keys,
        )
        course.planned_sessions = already + len(ordered)
        if course.status == Course.Status.COMPLETED:
            course.status = Course.Status.ACTIVE
        course.full_clean(validate_unique=False)
        course.save(update_fields=["planned_sessions", "status"])
        # appointment_book leaves a course's sessions to the course: their reminders, and the
        # course-ending invitation moving to the new last session.
        for appointment in booked:
            _reminders().send_on_commit(_planning().plan_booked(appointment))
        # The client gets the whole updated course, its calendar file included.
        _reminders().send_on_commit(_planning().plan_course_changed(course))
    return course


def course_shorten(
    *, course: Course, count: int, reason: str, by: AbstractBaseUser, expect_last_pk: int | None = None
) -> int:
    """Cancel the last `count` upcoming sessions of a course, all or none, and lower its planned sessions by as
    many (never below the sessions it keeps, nor 1); `expect_last_pk` refuses a repeated submit. Returns `count`."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the course is shortened.")})
    if count < 1:
        raise ValidationError({"count": _("Cancel at least one session.")})
    with transaction.atomic():
        # Locked first, so a double submit waits for the first one and then sees another last session.
        course = Course.objects.select_for_update().get(pk=course.pk)
        upcoming = list(
            course.appointments.select_for_update()
            .filter(status__in=Appointment.UPCOMING, starts_at__gte=timezone.now())
            .order_by("starts_at", "pk")
        )
        # The page said which session was last: a second submit of the same form (or a change by
        # someone else meanwhile) must not cancel `count` more.
        if expect_last_pk is not None and (not upcoming or upcoming[-1].pk != expect_last_pk):
            raise ValidationError(
                {NON_FIELD_ERRORS: _("The course changed meanwhile; check its sessions and try again.")}
            )
        if count > len(upcoming):
            raise ValidationError(
                {"count": _("Upcoming sessions that can be cancelled: %(count)s.") % {"count": len(upcoming)}}
            )
        for appointment in upcoming[-count:]:
            _cancel(appointment, reason=reason, by=by)
            # As appointment_cancel does: void its reminders, tell the client.
            _reminders().send_on_commit(_planning().plan_cancelled(appointment))
        statuses = list(course.appointments.values_list("status", flat=True))
        kept = sum(1 for status in statuses if status not in Appointment.NOT_LIVE)
        completed = statuses.count(Appointment.Status.COMPLETED)
        # The completed sessions (and any still booked) stay part of the plan.
        course.planned_sessions = max(course.planned_sessions - count, kept, 1)
        # As the last session log does: nothing left to do means the course is complete.
        if course.status == Course.Status.ACTIVE and completed >= course.planned_sessions:
            course.status = Course.Status.COMPLETED
        course.full_clean(validate_unique=False)
        course.save(update_fields=["planned_sessions", "status"])
    return count
