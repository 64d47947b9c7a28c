"""What pghistory's change-history trigger costs on the appointments table, measured in transactions
that are rolled back: the same COPY of synthetic far-future appointments with the trigger as the
application meets it (no pghistory context, no pgtrigger.ignore setting), with both settings given,
and with the trigger disabled."""

import datetime
import time
import uuid

from django.db import connection, transaction

from bench.bulk import copy_rows
from parlor.models import MassageType, Masseur, Room
from sessions.models import Appointment


def _rows(count: int, *, masseurs: list[int], rooms: list[int], clients: list[int], type_id: int):
    base = datetime.datetime(datetime.date.today().year + 20, 1, 1, 8, tzinfo=datetime.UTC)
    for n in range(count):
        starts = base + datetime.timedelta(hours=n)
        yield {
            "id": 10**10 + n,
            "course_id": None,
            "client_id": clients[n % len(clients)],
            "massage_type_id": type_id,
            "masseur_id": masseurs[n % len(masseurs)],
            "room_id": rooms[n % len(rooms)],
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=40),
            "blocks_until": starts + datetime.timedelta(minutes=55),
            "status": "booked",
            "booked_at": starts,
            "cancellation_reason": "",
            "override_reason": "",
            "request_key": None,
        }


def _trigger_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'treatments_appointment'::regclass"
            " AND NOT tgisinternal AND tgname LIKE 'pgtrigger_insert_insert_%%'"
        )
        return cursor.fetchone()[0]


def trigger_cost(sizes=(1000, 4000)) -> dict:
    """Microseconds per appointment row written with COPY, by mode and statement size."""
    masseurs = list(Masseur.objects.values_list("pk", flat=True)[:3])
    rooms = list(Room.objects.values_list("pk", flat=True)[:3])
    clients = list(range(1, 101))
    type_id = MassageType.objects.get(code="classic-back").pk
    trigger = _trigger_name()
    result = {}
    for mode in ("as the application runs it", "pghistory context and pgtrigger.ignore set", "trigger disabled"):
        for size in sizes:
            if mode != "as the application runs it" and size != sizes[-1]:
                continue
            with transaction.atomic():
                with connection.cursor() as cursor:
                    if mode.startswith("pghistory"):
                        cursor.execute(
                            "SELECT set_config('pgtrigger.ignore', '{}', true),"
                            " set_config('pghistory.context_id', %s, true),"
                            " set_config('pghistory.context_metadata', '{\"source\": \"bench.probe\"}', true)",
                            [str(uuid.uuid4())],
                        )
                    elif mode == "trigger disabled":
                        cursor.execute(f'ALTER TABLE treatments_appointment DISABLE TRIGGER "{trigger}"')
                started = time.perf_counter()
                count, _seconds = copy_rows(
                    Appointment, _rows(size, masseurs=masseurs, rooms=rooms, clients=clients, type_id=type_id)
                )
                seconds = time.perf_counter() - started
                transaction.set_rollback(True)
            result[f"{mode}, {size} rows"] = round(seconds / count * 1e6)
    return result
