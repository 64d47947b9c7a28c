"""Demo session logs: every past appointment of the demo that is completed, or still booked though its
time has passed, gets a signed log, with the client's pain falling over the course.
Idempotent: an appointment that already has a signed log is left alone. Deterministic.

The demo writes history, all at once: each log is checked as sessionlog_save checks it (log_problems
against the day's verdict: areas never worked, allergens, direction), then the logs are inserted
signed in bulk and their appointments and courses completed as signing one at a time does."""

import datetime
import logging
import random
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from sessions.booking import page_selectors
from sessions.care import logs
from sessions.localtime import local_date
from sessions.models import Appointment, Course, SessionLog

logger = logging.getLogger(__name__)

# The masseur writes in the language spoken with the client: the demo has both.
PRODUCTS = {
    "uk": ["оливкова олія", "мигдальна олія", "тальк", "нейтральний крем"],
    "en": ["olive oil", "almond oil", "talc", "neutral cream"],
}
NOTES = {
    "uk": {
        "first": "Скарги на біль у спині.",
        "later": "Біль у попереку зменшився.",
        "tense": "М'язи спини напружені.",
        "easier": "Напруження помірне.",
        "start": "Початок курсу.",
        "better": "Позитивна динаміка.",
        "plan": "Продовжити курс.",
    },
    "en": {
        "first": "Complains of back pain.",
        "later": "Lower back pain has eased.",
        "tense": "Back muscles are tense.",
        "easier": "Moderate tension.",
        "start": "Start of the course.",
        "better": "Improving.",
        "plan": "Continue the course.",
    },
}
AREAS = ("neck", "collar-zone", "shoulders", "upper-back", "mid-back", "lower-back")


def _pains(number: int, rng: random.Random) -> tuple[int, int]:
    """Pain before and after the n-th session (1-based): starts about 7 and never rises from one session to the next."""
    before = max(1, 7 - (number - 1) + rng.choice((-1, 0, 0)))
    after = max(0, before - rng.choice((2, 2, 3)))
    return min(before, 10), after


def _log_input(appointment: Appointment, *, number: int, rng: random.Random, verdict) -> logs.LogInput:
    before, after = _pains(number, rng)
    language = "en" if appointment.client.language == "en" else "uk"
    notes = NOTES[language]
    allowed = [p for p in PRODUCTS[language] if not logs.allergen_in(p, verdict.allergens)]
    avoid = logs.must_avoid(verdict)
    return logs.LogInput(
        areas_worked=[a for a in AREAS if a not in avoid],
        areas_avoided=avoid,
        direction=verdict.direction,
        pressure=rng.choice(["light", "medium", "medium", "deep"]),
        pain_before=before,
        pain_after=after,
        products=allowed[:1],
        duration_minutes=appointment.massage_type.duration_minutes,
        subjective=notes["later"] if number > 1 else notes["first"],
        objective=notes["tense"] if before > 4 else notes["easier"],
        assessment=notes["better"] if number > 1 else notes["start"],
        plan=notes["plan"],
    )


def _verdicts(appointments: list[Appointment]) -> dict[int, object]:
    """The verdict of each appointment's day, three queries per client (the types booked in the demo add
    no rule of their own: see appointments._needs_no_more_than_the_screening)."""
    days_by_client: dict[int, set] = defaultdict(set)
    client_of = {}
    for appointment in appointments:
        days_by_client[appointment.client_id].add(local_date(appointment.starts_at))
        client_of[appointment.client_id] = appointment.client
    by_client_day = {}
    for client_id, days in days_by_client.items():
        for day, verdict in page_selectors.verdicts_by_day(
            client=client_of[client_id], massage_type=None, days=days
        ).items():
            by_client_day[(client_id, day)] = verdict
    return {a.pk: by_client_day[(a.client_id, local_date(a.starts_at))] for a in appointments}


@transaction.atomic
def seed() -> None:
    now = timezone.now()
    rng = random.Random(11)
    manager = get_user_model().objects.filter(username="manager").first()
    past = list(
        Appointment.objects.filter(
            starts_at__lt=now,
            status__in=[
                Appointment.Status.BOOKED,
                Appointment.Status.CONFIRMED,
                Appointment.Status.CHECKED_IN,
                Appointment.Status.COMPLETED,
            ],
        )
        .filter(session_log__isnull=True)
        .select_related("client", "massage_type", "masseur__user")
        .order_by("course_id", "starts_at")
    )
    verdicts = _verdicts(past)
    numbers: dict[int | None, int] = {}
    written = []
    for appointment in past:
        numbers[appointment.course_id] = numbers.get(appointment.course_id, 0) + 1
        number = numbers[appointment.course_id] if appointment.course_id else 1
        data = _log_input(appointment, number=number, rng=rng, verdict=verdicts[appointment.pk])
        problems = logs.log_problems(data, verdict=verdicts[appointment.pk], signing=True)
        if problems:
            # A demo client whose record forbids the log as generated: leave that one unlogged.
            logger.warning("demo log for appointment %s skipped: %s", appointment.pk, problems)
            continue
        by = appointment.masseur.user or manager
        log = SessionLog(
            appointment=appointment,
            created_by=by,
            status=SessionLog.Status.SIGNED,
            signed_by=by,
            signed_at=min(appointment.ends_at + datetime.timedelta(minutes=10), now),
            **vars(data),
        )
        log.full_clean(exclude=["appointment"], validate_constraints=False)
        written.append(log)
    SessionLog.objects.bulk_create(written)
    Appointment.objects.filter(pk__in=[log.appointment_id for log in written]).update(
        status=Appointment.Status.COMPLETED
    )
    _advance_courses({log.appointment.course_id for log in written} - {None})


def _advance_courses(course_ids: set[int]) -> None:
    """Active, or completed once the planned number of sessions is done: as signing one log at a time leaves it."""
    for course in Course.objects.filter(pk__in=course_ids).annotate(
        done=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED))
    ):
        status = Course.Status.COMPLETED if course.done >= course.planned_sessions else Course.Status.ACTIVE
        if course.status in (Course.Status.PLANNED, Course.Status.ACTIVE) and course.status != status:
            Course.objects.filter(pk=course.pk).update(status=status)
