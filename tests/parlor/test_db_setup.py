"""Every new connection: psycopg's C timestamptz loader, and pgtrigger.ignore set (parlor/db_setup.py)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from psycopg.adapt import PyFormat
from psycopg.pq import Format

from parlor.db_setup import CTimestamptzLoader

pytestmark = pytest.mark.django_db
KYIV = ZoneInfo("Europe/Kyiv")
TIMESTAMPTZ_OID = 1184


def test_a_connections_timestamptz_loader_is_psycopgs_c_one():
    with connection.cursor() as cursor:
        registered = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        loader = registered(TIMESTAMPTZ_OID, cursor.cursor)

    # Django's cursor keeps it (its own Python loader would come back on a time zone mismatch).
    assert registered is CTimestamptzLoader
    assert type(loader.load.__self__).__module__ in ("psycopg_binary._psycopg", "psycopg_c._psycopg")
    assert PyFormat.from_pq(registered.format) == PyFormat.TEXT


@pytest.mark.parametrize(
    "instant",
    [
        # Kyiv's clocks jump from 03:00 to 04:00 on 29 March 2026 (01:00 UTC)...
        datetime.datetime(2026, 3, 29, 2, 59, 59, 999999, tzinfo=KYIV),
        datetime.datetime(2026, 3, 29, 4, 0, tzinfo=KYIV),
        # ...and go back from 04:00 to 03:00 on 25 October 2026: 03:30 happens twice.
        datetime.datetime(2026, 10, 25, 3, 30, tzinfo=KYIV),
        datetime.datetime(2026, 10, 25, 3, 30, fold=1, tzinfo=KYIV),
        datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.UTC),
    ],
)
def test_timestamps_come_back_aware_in_utc_and_equal_to_what_was_stored(instant):
    user = get_user_model().objects.create(username="clock")
    get_user_model().objects.filter(pk=user.pk).update(last_login=instant)

    loaded = get_user_model().objects.values_list("last_login", flat=True).get(pk=user.pk)

    # In UTC: Python never finds an instant of the repeated hour equal across two time zones (PEP 495).
    assert loaded == instant.astimezone(datetime.UTC)
    assert loaded.tzinfo is datetime.UTC
    assert loaded.utcoffset() == datetime.timedelta(0)


def test_the_fold_of_kyivs_repeated_hour_is_two_instants_an_hour_apart():
    first = datetime.datetime(2026, 10, 25, 3, 30, tzinfo=KYIV)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, %s::timestamptz", [first, first.replace(fold=1)])
        earlier, later = cursor.fetchone()

    assert later - earlier == datetime.timedelta(hours=1)
    assert earlier == datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.UTC)


def test_a_new_connection_ignores_no_trigger_and_says_so():
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SELECT current_setting('pgtrigger.ignore')")
            (setting,) = cursor.fetchone()
    finally:
        fresh.close()

    # Set (so pgtrigger's trigger never catches a missing setting's error) and naming no trigger.
    assert setting == "{}"
