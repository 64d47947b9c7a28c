"""Two scans at once, each on its own database connection: each flag once, one hold email."""

import threading

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection

from sessions.flags import scan as flag_scan
from sessions.models import Appointment, Flag
from tests.sessions.test_masseur_support import NOW, make_day

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_db")]


def test_flag_scan_twice_concurrently_raises_each_flag_once_and_emails_once():
    with time_machine.travel(NOW, tick=False):
        day = make_day(second_finding="oncology")
        cache.delete(flag_scan.LAST_SCAN_KEY)
        barrier = threading.Barrier(2)
        results, errors = [], []

        def scan():
            try:
                barrier.wait(timeout=10)
                # since=None: both sweep everything within 24 hours, whatever the other did.
                results.append(flag_scan.flag_scan(now=NOW, since=None))
            except Exception as exc:  # pragma: no cover - shown by the assertion below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=scan) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert errors == []
    assert sorted(r.checked for r in results) == [1, 1]
    assert sorted(r.held for r in results) == [0, 1]
    assert sorted(Flag.objects.values_list("change_key", flat=True)) == [
        f"added:oncology@{day.second_screening.pk}",
        f"worsened@{day.second_screening.pk}",
    ]
    assert Appointment.objects.get(pk=day.appointment.pk).status == "on_hold"
    assert len(mail.outbox) == 1
