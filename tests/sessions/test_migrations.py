"""Migration 0009 keeps what was there: each written override becomes an Override row and each appointment
on hold gets its open Hold, so the pages can say why and offer the release."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("treatments", "0008_dayofcheck_confirmed_screening")]
AFTER = [("treatments", "0009_overrides_holds_awaiting_clearance")]
UTC = datetime.UTC


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_0009_keeps_overrides_and_gives_held_appointments_their_hold(seeded_db):
    apps = _migrate(BEFORE)
    try:
        user = apps.get_model("auth", "User").objects.create(username="boss")
        massage_type = apps.get_model("parlor", "MassageType").objects.create(
            code="m-0009", name_uk="М", name_en="M", duration_minutes=40, buffer_minutes=15, price_uah=1
        )
        masseur = apps.get_model("parlor", "Masseur").objects.create(user=user, display_name="Олена")
        room = apps.get_model("parlor", "Room").objects.create(name="R-0009")
        client = apps.get_model("clients", "Client").objects.create(
            full_name="Клієнтка",
            birth_date=datetime.date(1985, 1, 1),
            sex="female",
            data_consent_at=datetime.datetime(2026, 1, 1, tzinfo=UTC),
        )
        appointment = apps.get_model("treatments", "Appointment")

        def book(hour, **fields):
            starts = datetime.datetime(2027, 3, 1, hour, tzinfo=UTC)
            return appointment.objects.create(
                client=client,
                massage_type=massage_type,
                masseur=masseur,
                room=room,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(minutes=40),
                blocks_until=starts + datetime.timedelta(minutes=55),
                **fields,
            )

        overridden = book(8, override_reason="Лист онколога", override_by=user)
        held = book(10, status="on_hold")
        checked = book(12, status="on_hold")
        apps.get_model("treatments", "DayOfCheck").objects.create(
            appointment=checked, answers={}, checked_by=user, outcome="on_hold", hold_reason="температура"
        )

        apps = _migrate(AFTER)

        override = apps.get_model("treatments", "Override").objects.get()
        assert (override.appointment_id, override.reason, override.by_id, override.covers) == (
            overridden.pk,
            "Лист онколога",
            user.pk,
            [],
        )
        holds = {h.appointment_id: h for h in apps.get_model("treatments", "Hold").objects.all()}
        assert set(holds) == {held.pk, checked.pk}
        assert (holds[held.pk].cause, holds[held.pk].advice, holds[held.pk].released_at) == ("health", "override", None)
        assert (holds[checked.pk].cause, holds[checked.pk].concerns) == (
            "day_of",
            [{"code": "", "name": "температура"}],
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
