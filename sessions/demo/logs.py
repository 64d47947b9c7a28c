"""Demo session logs: every past appointment of the demo courses that is completed, or still booked
though its time has passed, gets a signed log, with the client's pain falling over the course.
Idempotent: an appointment that already has a signed log is left alone. Deterministic."""

import datetime
import logging
import random

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sessions.care import logs
from sessions.models import Appointment, SessionLog

logger = logging.getLogger(__name__)

PRODUCTS = ["olive oil", "almond oil", "talc", "neutral cream"]


def _pains(number: int, rng: random.Random) -> tuple[int, int]:
    """Pain before and after the n-th session (1-based): starts about 7 and never rises from one session to the next."""
    before = max(1, 7 - (number - 1) + rng.choice((-1, 0, 0)))
    after = max(0, before - rng.choice((2, 2, 3)))
    return min(before, 10), after


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
        .exclude(session_log__status=SessionLog.Status.SIGNED)
        .select_related("client", "massage_type", "masseur__user")
        .order_by("course_id", "starts_at")
    )
    numbers: dict[int | None, int] = {}
    for appointment in past:
        numbers[appointment.course_id] = numbers.get(appointment.course_id, 0) + 1
        number = numbers[appointment.course_id] if appointment.course_id else 1
        try:
            with transaction.atomic():
                _sign_demo_log(appointment, number=number, rng=rng, by=appointment.masseur.user or manager, now=now)
        except ValidationError as exc:
            # A demo client whose record forbids the log as generated: leave that one unlogged.
            logger.warning("demo log for appointment %s skipped: %s", appointment.pk, exc.messages)


def _sign_demo_log(appointment: Appointment, *, number: int, rng: random.Random, by, now) -> None:
    verdict = logs.verdict_for_appointment(appointment)
    # The log is written for a session that took place: a completed or
    # past-booked appointment is first put back to "checked in", which the
    # signing then completes (and the course advances with it).
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CHECKED_IN)
    appointment.status = Appointment.Status.CHECKED_IN
    before, after = _pains(number, rng)
    allowed = [p for p in PRODUCTS if not logs.allergen_in(p, verdict.allergens)]
    avoid = logs.must_avoid(verdict)
    data = logs.LogInput(
        areas_worked=[
            a for a in ("neck", "collar-zone", "shoulders", "upper-back", "mid-back", "lower-back") if a not in avoid
        ],
        areas_avoided=avoid,
        direction=verdict.direction,
        pressure=rng.choice(["light", "medium", "medium", "deep"]),
        pain_before=before,
        pain_after=after,
        products=allowed[:1],
        duration_minutes=appointment.massage_type.duration_minutes,
        subjective="Біль у попереку зменшився." if number > 1 else "Скарги на біль у спині.",
        objective="М'язи спини напружені." if before > 4 else "Напруження помірне.",
        assessment="Позитивна динаміка." if number > 1 else "Початок курсу.",
        plan="Продовжити курс.",
    )
    existing = SessionLog.objects.filter(appointment=appointment).first()
    logs.sessionlog_save(
        appointment=appointment,
        data=data,
        by=by,
        log_id=existing.pk if existing else None,
        sign=True,
        verdict=verdict,
        at=min(appointment.ends_at + datetime.timedelta(minutes=10), now),
    )
