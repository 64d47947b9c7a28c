"""What a generated world must hold: the database's own guarantees, and the clinical plausibility
the generator promises. tests/bench runs them all on a tiny world; the bench runs them on a sample."""

import random
from collections import defaultdict

from django.apps import apps
from django.db import connection

from clients.models import Client
from sessions.booking.page_selectors import verdicts_by_day
from sessions.care import logs
from sessions.localtime import local_date
from sessions.models import Appointment, SessionLog

# Statuses that were booked on a verdict allowing them and still hold the slot.
ALLOWED_STATUSES = [
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.CHECKED_IN,
    Appointment.Status.COMPLETED,
]


def _sample(ids: list[int], sample: int | None, seed: int = 15) -> list[int]:
    if sample is None or len(ids) <= sample:
        return ids
    return sorted(random.Random(seed).sample(ids, sample))


def verdict_problems(*, sample: int | None = None) -> tuple[int, list[str]]:
    """Every live appointment's verdict on its day (for its massage type) allows it; every one on hold is
    held by a verdict that does not. Returns (appointments checked, problems)."""
    ids = list(Appointment.objects.exclude(status__in=Appointment.NOT_LIVE).order_by("pk").values_list("pk", flat=True))
    chosen = Appointment.objects.filter(pk__in=_sample(ids, sample)).select_related("client", "massage_type")
    groups = defaultdict(list)
    for appointment in chosen:
        groups[(appointment.client_id, appointment.massage_type_id)].append(appointment)
    problems = []
    for appointments in groups.values():
        first = appointments[0]
        verdicts = verdicts_by_day(
            client=first.client, massage_type=first.massage_type, days={local_date(a.starts_at) for a in appointments}
        )
        for appointment in appointments:
            verdict = verdicts[local_date(appointment.starts_at)]
            held = appointment.status == Appointment.Status.ON_HOLD
            if verdict.is_bookable == held:
                problems.append(
                    f"appointment {appointment.pk} ({appointment.status}, {first.massage_type.code}): "
                    f"verdict {verdict.status} {list(verdict.reasons)}"
                )
    return sum(len(a) for a in groups.values()), problems


def log_problems(*, sample: int | None = None) -> tuple[int, list[str]]:
    """Every signed log passes the checks signing makes (areas never worked, allergens, direction)."""
    ids = list(SessionLog.objects.order_by("pk").values_list("pk", flat=True))
    chosen = list(
        SessionLog.objects.filter(pk__in=_sample(ids, sample)).select_related(
            "appointment__client", "appointment__massage_type"
        )
    )
    by_client = defaultdict(list)
    for log in chosen:
        by_client[log.appointment.client_id].append(log)
    problems = []
    for client_logs in by_client.values():
        client: Client = client_logs[0].appointment.client
        verdicts = verdicts_by_day(
            client=client, massage_type=None, days={local_date(log.appointment.starts_at) for log in client_logs}
        )
        for log in client_logs:
            data = logs.LogInput(**{name: getattr(log, name) for name in logs.LogInput.__dataclass_fields__})
            found = logs.log_problems(data, verdict=verdicts[local_date(log.appointment.starts_at)], signing=True)
            if found:
                problems.append(f"log {log.pk}: {found}")
    return len(chosen), problems


OVERLAPS = """
SELECT count(*) FROM treatments_appointment a JOIN treatments_appointment b
  ON a.{column} = b.{column} AND a.id < b.id
 AND tstzrange(a.starts_at, a.blocks_until, '[)') && tstzrange(b.starts_at, b.blocks_until, '[)')
WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""


def overlaps() -> dict[str, int]:
    """Live appointments overlapping another of the same masseur, room or client (rest included): all 0."""
    with connection.cursor() as cursor:
        found = {}
        for column in ("masseur_id", "room_id", "client_id"):
            cursor.execute(OVERLAPS.format(column=column))
            found[column] = cursor.fetchone()[0]
    return found


def constraints_and_triggers() -> dict[str, list[str]]:
    """Constraints not validated and triggers not enabled on the app's tables: both lists empty."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text || '.' || conname FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND NOT c.convalidated"
        )
        invalid = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT tgrelid::regclass::text || '.' || tgname FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgenabled <> 'O'"
        )
        disabled = [row[0] for row in cursor.fetchall()]
    return {"not validated": invalid, "not enabled": disabled}


def history_gaps() -> dict[str, tuple[int, int]]:
    """Tracked tables whose rows lack their insert event (pghistory's trigger did not fire): empty."""
    gaps = {}
    for model in apps.get_models():
        event_model = getattr(model, "pgh_event_model", None)
        if event_model is None or not model._meta.db_table.startswith(("clients_", "screening_", "treatments_")):
            continue
        rows = model._default_manager.count()
        events = event_model.objects.filter(pgh_label="insert").values("pgh_obj_id").distinct().count()
        if events < rows:
            gaps[model._meta.label] = (rows, events)
    return gaps
