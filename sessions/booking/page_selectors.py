"""Reads the booking pages need beyond sessions.booking.selectors: verdicts for many days at once, a
re-check of a hand-edited course schedule, and the course page in a fixed number of queries."""

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from parlor.models import MassageType, Masseur, Room
from sessions.booking import availability, gate
from sessions.booking.selectors import MAX_GAP_DAYS, appointment_conflicts, gap_warning, local_date
from sessions.booking.services import ProposedSession
from sessions.models import Appointment, Course, Override

# --- screening verdicts -------------------------------------------------------------------------


def verdict_on(*, client: Client, massage_type: MassageType, day: datetime.date):
    """The screening verdict for one day, as the booking services ask it. Three queries at most."""
    from screening.selectors import verdict_for

    return verdict_for(client=client, massage_type=massage_type, day=day)


def verdicts_by_day(*, client: Client, massage_type: MassageType, days: Iterable[datetime.date], course=None) -> dict:
    """The screening verdict of each day, the same as verdict_for gives one day at a time (as sessions of
    `course`, rules.CourseFacts, when given), in three queries whatever the number of days (a course page
    shows one per session)."""
    from screening import rules
    from screening import selectors as screening
    from screening.models import Clearance, Screening

    days = sorted(set(days))
    if not days:
        return {}
    # Every screening up to the last day, newest first; each day takes the newest one taken by its end.
    screenings = list(
        screening._with_findings(
            Screening.objects.filter(client=client, taken_at__lt=screening._end_of(days[-1])).order_by(
                "-taken_at", "-pk"
            )
        )
    )
    # Clearances valid on some day of the range; rules.evaluate keeps the ones valid on its day.
    clearances = [
        screening.clearance_facts(c)
        for c in Clearance.objects.filter(client=client, issued_on__lte=days[-1], valid_until__gte=days[0])
        .select_related("covers_contraindication", "covers_massage_type")
        .order_by("pk")
    ]
    facts = screening.client_facts(client)
    kind = screening.type_facts(massage_type)
    stale = screening.stale_after_days()
    verdicts = {}
    for day in days:
        end = screening._end_of(day)
        verdicts[day] = rules.evaluate(
            facts=facts,
            massage_type=kind,
            day=day,
            # The staff screening in force with the self-reports since, as verdict_for judges.
            screening=screening.facts_in_force([s for s in screenings if s.taken_at < end]),
            clearances=[c for c in clearances if c.is_valid_on(day)],
            stale_after_days=stale,
            course=course,
        )
    return verdicts


# --- a hand-edited schedule ---------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    starts_at: datetime.datetime
    masseur: Masseur
    room: Room


def check_sessions(
    *,
    client: Client,
    massage_type: MassageType,
    rows: Sequence[SessionRow],
    earlier_days: Sequence[datetime.date] = (),
    may_book_closed: bool = False,
) -> list[ProposedSession]:
    """Each row (in the given order) with what would stop it being booked and its gap warnings,
    the way course_propose reports its own proposal: clashes with what is booked, with the other
    rows, working hours, qualifications, closed days (unless `may_book_closed`). `earlier_days`: the
    course's sessions already booked (extending a course), so the first new row is warned about the gap
    after them. Five queries a row."""
    duration = datetime.timedelta(minutes=massage_type.duration_minutes)
    buffer = datetime.timedelta(minutes=massage_type.buffer_minutes)
    checked: list[ProposedSession] = []
    for number, row in enumerate(rows, start=1):
        errors = appointment_conflicts(
            client=client,
            massage_type=massage_type,
            masseur=row.masseur,
            room=row.room,
            starts_at=row.starts_at,
            may_book_closed=may_book_closed,
        )
        conflicts = [message for messages in errors.values() for message in messages]
        # The rows are not booked yet, so the database cannot see them clash with each other.
        blocks_until = row.starts_at + duration + buffer
        for other_number, other in enumerate(rows[: number - 1], start=1):
            if other.starts_at < blocks_until and row.starts_at < other.starts_at + duration + buffer:
                conflicts.append(_("It overlaps session %(number)s (with its rest after).") % {"number": other_number})
        checked.append(
            ProposedSession(number, row.starts_at, row.starts_at + duration, row.masseur, row.room, conflicts, [])
        )
    _add_gap_warnings(checked, earlier_days=earlier_days)
    return checked


def _add_gap_warnings(sessions: Sequence[ProposedSession], *, earlier_days: Sequence[datetime.date]) -> None:
    """A warning on each session that comes more than 2 days after the one before it (by date)."""
    previous = max(earlier_days) if earlier_days else None
    for session in sorted(sessions, key=lambda s: s.starts_at):
        day = local_date(session.starts_at)
        if previous is not None and (day - previous).days > MAX_GAP_DAYS:
            session.warnings.append(gap_warning((day - previous).days))
        previous = day


# --- the course page ----------------------------------------------------------------------------


@dataclass
class CoursePage:
    course: Course
    appointments: list[Appointment]
    # The adaptations of each appointment's day, by appointment id.
    verdicts: dict[int, object]
    completed: int
    booked: int  # live sessions: completed, upcoming or checked in

    @property
    def upcoming(self) -> list[Appointment]:
        now = timezone.now()
        return [a for a in self.appointments if a.status in Appointment.UPCOMING and a.starts_at >= now]

    @property
    def last_live(self) -> Appointment | None:
        live = [a for a in self.appointments if a.is_live]
        return live[-1] if live else None


def course_page(*, pk: int) -> CoursePage | None:
    """A course with its sessions, progress and each session's verdict: a fixed number of queries
    (course, sessions, three for the verdicts, one for the overrides) whatever the length of the course."""
    course = Course.objects.select_related("client", "massage_type", "preferred_masseur").filter(pk=pk).first()
    if course is None:
        return None
    appointments = list(
        course.appointments.select_related("masseur", "room", "massage_type").order_by("starts_at", "pk")
    )
    live = [a for a in appointments if a.is_live]
    by_day = verdicts_by_day(
        client=course.client,
        massage_type=course.massage_type,
        days={local_date(a.starts_at) for a in live},
        course=gate.course_facts(course, starts_on=min(local_date(a.starts_at) for a in live)) if live else None,
    )
    # What each session's overrides cover lifts its blocks, as the gate does: one query.
    covered: dict[int, set[str]] = {}
    for appointment_id, covers in Override.objects.filter(appointment__course=course).values_list(
        "appointment_id", "covers"
    ):
        covered.setdefault(appointment_id, set()).update(covers)
    return CoursePage(
        course=course,
        appointments=appointments,
        verdicts={a.pk: by_day[local_date(a.starts_at)].overridden(covered.get(a.pk, ())) for a in live},
        completed=sum(1 for a in appointments if a.status == Appointment.Status.COMPLETED),
        booked=len(live),
    )


def next_course_day(course: Course, after: datetime.date) -> datetime.date:
    """Where an extension of the course starts: the cadence's next day after `after`, not before
    today (course_propose moves it on to a chosen weekday)."""
    step = 2 if course.cadence == Course.Cadence.EVERY_OTHER_DAY else 1
    return max(after + datetime.timedelta(days=step), timezone.localdate())


def warn_gap_after(sessions: Sequence[ProposedSession], *, last_day: datetime.date | None) -> None:
    """Add the gap warning to the first of the proposed sessions when it comes too long after
    `last_day` (the course's last booked session); course_propose compares only its own sessions."""
    if last_day is None or not sessions:
        return
    first = min(sessions, key=lambda s: s.starts_at)
    gap = (local_date(first.starts_at) - last_day).days
    if gap > MAX_GAP_DAYS:
        first.warnings.append(gap_warning(gap))


# --- "repeat this course" -----------------------------------------------------------------------

# How far ahead "the next free day" is looked for before the course starts where the cadence says.
REPEAT_SEARCH_DAYS = 60


def repeat_of(value: str) -> QueryDict | None:
    """The new-course form filled in as a repeat of course `value` (its id): the same client, massage
    type, indication, length, cadence and weekdays, with the masseur and local time of its last session,
    from the next day that masseur is free at that time (or at all) within REPEAT_SEARCH_DAYS. None when
    `value` names no course of a live client. Four queries at most."""
    if not value.isdigit():
        return None
    course = (
        Course.objects.select_related("client", "massage_type", "preferred_masseur")
        .filter(pk=int(value), client__merged_into__isnull=True, client__erased_at__isnull=True)
        .first()
    )
    if course is None:
        return None
    last = (
        course.appointments.exclude(status__in=Appointment.NOT_LIVE)
        .select_related("masseur")
        .order_by("-starts_at", "-pk")
        .first()
    ) or course.appointments.select_related("masseur").order_by("-starts_at", "-pk").first()
    masseur = last.masseur if last is not None and last.masseur.is_active else course.preferred_masseur
    at = timezone.localtime(last.starts_at).time().replace(second=0, microsecond=0) if last else course.preferred_time
    today = timezone.localdate()
    start = today
    slots = availability.free_slots(
        massage_type=course.massage_type,
        start_date=today,
        end_date=today + datetime.timedelta(days=REPEAT_SEARCH_DAYS),
        masseur=masseur,
    )
    if slots:
        at_time = [s for s in slots if at is None or timezone.localtime(s.starts_at).time() == at]
        start = local_date((at_time or slots)[0].starts_at)
    data = QueryDict(mutable=True)
    data.update(
        {
            "client": str(course.client_id),
            "massage_type": str(course.massage_type_id),
            "indication": course.indication,
            "planned_sessions": str(course.planned_sessions),
            "cadence": course.cadence,
            "preferred_masseur": str(masseur.pk) if masseur else "",
            "preferred_time": at.strftime("%H:%M") if at else "",
            "start_date": start.isoformat(),
            "request_key": str(uuid.uuid4()),
            "action": "propose",
        }
    )
    data.setlist("weekdays", [str(day) for day in course.weekdays])
    return data


# --- moving an appointment ----------------------------------------------------------------------

# The move page offers the free times of the appointment's day and of this many days after it.
MOVE_DAYS = 3
MOVE_STEP_MINUTES = 30


@dataclass(frozen=True)
class MoveSlot:
    """A free time to move to, with the room it would take (the appointment's own when free)."""

    starts_at: datetime.datetime
    masseur: Masseur
    room: Room

    @property
    def local_value(self) -> str:
        """The start as the move form's field takes it."""
        return timezone.localtime(self.starts_at).strftime("%Y-%m-%dT%H:%M")


@dataclass
class MoveDay:
    """The free times of one day for moving an appointment: its own masseur's first, then the others'."""

    day: datetime.date
    own: list[MoveSlot]
    others: list[tuple[Masseur, list[MoveSlot]]]

    @property
    def empty(self) -> bool:
        return not self.own and not self.others


def move_suggestions(
    *, appointment: Appointment, start: datetime.date | None = None, now: datetime.datetime | None = None
) -> list[MoveDay]:
    """Where the appointment could go: the free slots of its type from `start` (its own day, not before today)
    over MOVE_DAYS days, the client's other bookings left out, as if it were not booked. Same masseur first,
    then the others. Two queries."""
    now = now or timezone.now()
    start = max(start or local_date(appointment.starts_at), timezone.localdate())
    end = start + datetime.timedelta(days=MOVE_DAYS)
    slots = availability.free_slots(
        massage_type=appointment.massage_type,
        start_date=start,
        end_date=end,
        step_minutes=MOVE_STEP_MINUTES,
        now=now,
        exclude_appointment_pk=appointment.pk,
    )
    lo = availability.local_day_bounds(start, timezone.get_current_timezone())[0] - availability.MAX_BLOCK
    client_busy = availability.merge(
        Appointment.objects.filter(client_id=appointment.client_id, starts_at__gte=lo)
        .exclude(status__in=Appointment.NOT_LIVE)
        .exclude(pk=appointment.pk)
        .values_list("starts_at", "blocks_until")
    )
    days: dict[datetime.date, MoveDay] = {}
    for offset in range((end - start).days + 1):
        day = start + datetime.timedelta(days=offset)
        days[day] = MoveDay(day, [], [])
    others: dict[tuple[datetime.date, int], list] = {}
    masseurs: dict[int, Masseur] = {}
    for slot in slots:
        if availability.overlaps_any(client_busy, slot.starts_at, slot.blocks_until):
            continue
        day = local_date(slot.starts_at)
        room = next((r for r in slot.rooms if r.pk == appointment.room_id), slot.room)
        option = MoveSlot(slot.starts_at, slot.masseur, room)
        if slot.masseur.pk == appointment.masseur_id:
            days[day].own.append(option)
        else:
            masseurs[slot.masseur.pk] = slot.masseur
            others.setdefault((day, slot.masseur.pk), []).append(option)
    for (day, masseur_id), found in sorted(
        others.items(), key=lambda item: (item[0][0], masseurs[item[0][1]].display_name, item[0][1])
    ):
        days[day].others.append((masseurs[masseur_id], found))
    return list(days.values())


def free_rooms_at(
    *, starts_at: datetime.datetime, blocks_until: datetime.datetime, exclude_pk: int | None = None
) -> list[Room]:
    """The active rooms nobody's live appointment holds between the two instants. Two queries."""
    busy = set(
        Appointment.objects.filter(starts_at__lt=blocks_until, blocks_until__gt=starts_at)
        .exclude(status__in=Appointment.NOT_LIVE)
        .exclude(pk=exclude_pk)
        .values_list("room_id", flat=True)
    )
    return [room for room in Room.objects.filter(is_active=True).order_by("name") if room.pk not in busy]


def room_for_move(*, appointment: Appointment, starts_at: datetime.datetime) -> Room:
    """The room a dragged appointment takes at its new time: its own when free then, else the first free one
    (else its own, and the move's check says it is taken). Two queries."""
    length = appointment.blocks_until - appointment.starts_at
    free = free_rooms_at(starts_at=starts_at, blocks_until=starts_at + length, exclude_pk=appointment.pk)
    if any(room.pk == appointment.room_id for room in free):
        return appointment.room
    return free[0] if free else appointment.room
