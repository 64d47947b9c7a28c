import datetime
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache

from screening.models import Clearance, Contraindication
from sessions.flags import scan as flag_scan
from sessions.flags import subscriptions
from sessions.flags import tasks as tasks_flags
from sessions.flags.services import flag_acknowledge
from sessions.models import Appointment, Flag
from tests.sessions.factories import AppointmentFactory
from tests.sessions.test_masseur_support import NOW, TODAY, at, make_day, screen

pytestmark = pytest.mark.django_db

HEALTH_WORDS = ["ncolog", "нколог", "kidney", "нирок", "rose", "allerg", "алерг"]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_last_scan():
    cache.delete(flag_scan.LAST_SCAN_KEY)
    yield
    cache.delete(flag_scan.LAST_SCAN_KEY)


def blocked_day(**kwargs):
    """Today 12:00, booked on a rose allergy; a screening two days ago added an oncological disease."""
    return make_day(second_finding="oncology", **kwargs)


def status_of(appointment) -> str:
    return Appointment.objects.values_list("status", flat=True).get(pk=appointment.pk)


def another(day, *, starts_at, status=Appointment.Status.BOOKED):
    """Another appointment of the day's client, booked five days ago (before the second screening)."""
    appointment = AppointmentFactory(
        client=day.client,
        massage_type=day.massage_type,
        masseur=day.masseur,
        room=day.room,
        course=day.course,
        starts_at=starts_at,
        status=status,
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=at(-5, 9))
    appointment.refresh_from_db()
    return appointment


# --- flags_check ------------------------------------------------------------------------------------


def test_flags_check_a_new_absolute_contraindication_holds_and_emails_the_reception(
    django_capture_on_commit_callbacks,
):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert result.held is True
    assert sorted(f.change_key for f in result.flags) == [
        f"added:oncology@{day.second_screening.pk}",
        f"worsened@{day.second_screening.pk}",
    ]
    assert status_of(day.appointment) == "on_hold"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Parlor <noreply@parlor.localhost>"]
    assert message.subject == "Appointment on hold: record needs review (1 March, 12:00)"
    assert day.client.full_name in message.body
    assert "- 1 March 2027, 12:00, Олена\n" in message.body
    assert "No massage for now: the manager decides (a written override) or the client rebooks." in message.body
    assert str(day.client.phone) in message.body
    html = message.alternatives[0][0]
    assert day.client.full_name in html


def test_flags_check_the_hold_email_carries_no_health_details(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        flag_scan.flags_check(appointment=day.appointment)

    message = mail.outbox[0]
    text = " ".join([message.subject, message.body, message.alternatives[0][0]])
    for word in HEALTH_WORDS:
        assert word not in text


def test_flags_check_the_hold_email_in_ukrainian_for_a_ukrainian_parlor(settings, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "uk"
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        flag_scan.flags_check(appointment=day.appointment)

    # The msgids are in Ukrainian once the lead compiles the catalogue; the date is already.
    assert "(1 березня, 12:00)" in mail.outbox[0].subject


def test_flags_check_uses_the_reception_email_setting(settings, django_capture_on_commit_callbacks):
    settings.RECEPTION_EMAIL = "desk@parlor.example"
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        flag_scan.flags_check(appointment=day.appointment)

    assert mail.outbox[0].to == ["desk@parlor.example"]


def test_flags_check_twice_holds_once_and_emails_once(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        first = flag_scan.flags_check(appointment=day.appointment)
        second = flag_scan.flags_check(appointment=Appointment.objects.get(pk=day.appointment.pk))

    assert (first.held, second.held) == (True, False)
    assert [f.pk for f in first.flags] == [f.pk for f in second.flags]
    assert Flag.objects.count() == 2
    assert len(mail.outbox) == 1


def test_flags_check_a_confirmed_appointment_goes_on_hold_too(django_capture_on_commit_callbacks):
    day = blocked_day()
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CONFIRMED)
    day.appointment.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        assert flag_scan.flags_check(appointment=day.appointment).held is True

    assert status_of(day.appointment) == "on_hold"


def test_flags_check_an_appointment_already_on_hold_raises_flags_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    day = blocked_day()
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.ON_HOLD)
    day.appointment.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert (len(result.flags), result.held) == (2, False)
    assert mail.outbox == []


@pytest.mark.parametrize("status", ["checked_in", "completed", "cancelled", "no_show"])
def test_flags_check_a_past_deciding_appointment_is_left_alone(status, django_capture_on_commit_callbacks):
    day = blocked_day()
    Appointment.objects.filter(pk=day.appointment.pk).update(status=status)
    day.appointment.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert result == flag_scan.CheckResult(flags=[], held=False)
    assert status_of(day.appointment) == status
    assert Flag.objects.count() == 0


def test_flags_check_a_relative_contraindication_raises_flags_without_a_hold(django_capture_on_commit_callbacks):
    day = make_day(second_finding="kidney-disease")

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    # kind_worsened is critical, yet a relative contraindication is for the verdict and the masseur to weigh.
    assert sorted((f.kind, f.severity) for f in result.flags) == [("added", "warning"), ("kind_worsened", "critical")]
    assert result.held is False
    assert status_of(day.appointment) == "booked"
    assert mail.outbox == []


def test_flags_check_an_acknowledged_absolute_flag_still_holds(django_capture_on_commit_callbacks):
    day = blocked_day()
    # The masseur opened the review and acknowledged before the scan came (the review raises flags too):
    # reading a flag does not make the massage any less contraindicated.
    for flag in flag_scan.flags_raise_for(appointment=day.appointment):
        flag_acknowledge(flag=flag, by=day.user)

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert result.held is True
    assert status_of(day.appointment) == "on_hold"


def test_flags_check_a_flag_raised_by_the_review_page_still_holds(django_capture_on_commit_callbacks):
    day = blocked_day()
    flag_scan.flags_raise_for(appointment=day.appointment)  # the review page got there first

    with django_capture_on_commit_callbacks(execute=True):
        assert flag_scan.flags_check(appointment=day.appointment).held is True

    assert len(mail.outbox) == 1


def test_flags_check_nothing_changed_raises_nothing(django_capture_on_commit_callbacks):
    day = make_day(second_finding=None)

    with django_capture_on_commit_callbacks(execute=True):
        assert flag_scan.flags_check(appointment=day.appointment) == flag_scan.CheckResult(flags=[], held=False)


def test_hold_email_send_a_mail_server_down_keeps_the_hold(caplog, django_capture_on_commit_callbacks):
    day = blocked_day()

    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=ConnectionRefusedError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert flag_scan.flags_check(appointment=day.appointment).held is True

    assert status_of(day.appointment) == "on_hold"
    assert "could not email the front desk about the holds of batch" in caplog.text


def test_hold_email_send_a_gone_appointment_sends_nothing():
    assert flag_scan.hold_email_send(appointment_id=987654) is False
    assert mail.outbox == []


def test_appointment_flags_check_a_gone_appointment_returns_none():
    assert flag_scan.appointment_flags_check(appointment_id=987654) is None


def test_appointment_flags_check_by_id(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.appointment_flags_check(appointment_id=day.appointment.pk)

    assert result.held is True


# --- upcoming appointments ------------------------------------------------------------------------


def test_upcoming_appointment_ids_from_today_on_and_still_to_take_place():
    day = blocked_day()  # today 12:00, booked
    earlier_today = another(day, starts_at=at(0, 8))  # not started yet: the client may be late
    tomorrow = another(day, starts_at=at(1, 12), status=Appointment.Status.CONFIRMED)
    held = another(day, starts_at=at(2, 12), status=Appointment.Status.ON_HOLD)
    for offset, status in [(-1, "booked"), (3, "cancelled"), (4, "no_show"), (5, "completed")]:
        another(day, starts_at=at(offset, 15), status=status)

    assert flag_scan.upcoming_appointment_ids(client_id=day.client.pk) == [
        earlier_today.pk,
        day.appointment.pk,
        tomorrow.pk,
        held.pk,
    ]


# --- the scan -------------------------------------------------------------------------------------


def test_flag_scan_without_a_last_scan_checks_every_appointment_within_24_hours(django_capture_on_commit_callbacks):
    day = blocked_day()  # today 12:00: two hours from now
    tomorrow_morning = another(day, starts_at=at(1, 9))  # in 23 hours
    later = another(day, starts_at=at(1, 11))  # in 25 hours

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flag_scan(now=NOW)

    assert result == flag_scan.ScanResult(checked=2, flags=4, held=2)
    assert {a.pk: a.status for a in Appointment.objects.all()} == {
        day.appointment.pk: "on_hold",
        tomorrow_morning.pk: "on_hold",
        later.pk: "booked",
    }
    # Two sessions of one course held in one pass: one notice listing both.
    assert len(mail.outbox) == 1
    assert "- 1 March 2027, 12:00, Олена\n- 2 March 2027, 09:00, Олена\n" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("starts_in", "checked"),
    [
        (datetime.timedelta(hours=24), True),  # reached the 24-hour checkpoint in this period
        (datetime.timedelta(hours=23, minutes=56), True),
        (datetime.timedelta(hours=23, minutes=54), False),  # passed it at the last scan
        (datetime.timedelta(hours=24, minutes=1), False),  # not yet
        (datetime.timedelta(hours=2), True),  # reached the 2-hour checkpoint
        (datetime.timedelta(hours=1, minutes=56), True),
        (datetime.timedelta(hours=1, minutes=54), False),
        (datetime.timedelta(hours=12), False),  # between checkpoints
    ],
)
def test_flag_scan_checks_each_appointment_at_each_checkpoint_once(starts_in, checked):
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status="cancelled")
    appointment = another(day, starts_at=NOW + starts_in)

    result = flag_scan.flag_scan(now=NOW, since=NOW - datetime.timedelta(minutes=5))

    assert result.checked == (1 if checked else 0), appointment


def test_flag_scan_remembers_when_it_ran(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        first = flag_scan.flag_scan(now=NOW)
        again = flag_scan.flag_scan(now=NOW + datetime.timedelta(minutes=5))

    assert cache.get(flag_scan.LAST_SCAN_KEY) == NOW + datetime.timedelta(minutes=5)
    assert (first.checked, again.checked) == (1, 0)
    assert status_of(day.appointment) == "on_hold"


def test_flag_scan_run_twice_raises_each_flag_once_and_emails_once(django_capture_on_commit_callbacks):
    blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        first = flag_scan.flag_scan(now=NOW, since=None)
        cache.delete(flag_scan.LAST_SCAN_KEY)
        second = flag_scan.flag_scan(now=NOW, since=None)

    assert (first.checked, second.checked) == (1, 1)
    assert (first.held, second.held) == (1, 0)
    assert Flag.objects.count() == 2
    assert len(mail.outbox) == 1


def test_flag_scan_skips_appointments_already_started_or_not_upcoming():
    day = blocked_day()
    Appointment.objects.filter(pk=day.appointment.pk).update(status="checked_in")
    another(day, starts_at=at(0, 9))  # started an hour ago

    assert flag_scan.flag_scan(now=NOW).checked == 0


def test_flag_scan_a_stale_screening_is_flagged_at_the_checkpoint():
    day = make_day(second_finding=None)  # screened 10 days ago
    Appointment.objects.filter(pk=day.appointment.pk).update(status="cancelled")
    later = another(day, starts_at=NOW + datetime.timedelta(days=85, hours=1))

    with time_machine.travel(later.starts_at - datetime.timedelta(hours=23, minutes=58), tick=False):
        result = flag_scan.flag_scan()

    assert result.checked == 1
    assert list(later.flags.values_list("kind", flat=True)) == ["screening_stale"]


def test_flag_scan_a_clearance_expired_since_the_last_scan_checks_the_clients_later_appointments():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status="cancelled")
    next_week = another(day, starts_at=at(7, 12))
    clearance = Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.REFERRAL,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY - datetime.timedelta(days=1),
        covers_massage_type=day.massage_type,
    )

    result = flag_scan.flag_scan(now=NOW, since=NOW - datetime.timedelta(minutes=5))

    assert result.checked == 1
    assert list(next_week.flags.values_list("change_key", flat=True)) == [f"clearance-expired:{clearance.pk}"]


def test_flag_scan_a_clearance_expired_long_ago_is_not_rescanned():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status="cancelled")
    another(day, starts_at=at(7, 12))
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.REFERRAL,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY - datetime.timedelta(days=3),
        covers_massage_type=day.massage_type,
    )

    assert flag_scan.flag_scan(now=NOW, since=NOW - datetime.timedelta(minutes=5)).checked == 0


def test_flag_scan_a_clearance_expiring_before_the_appointment_is_flagged():
    day = make_day(second_finding=None)
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY + datetime.timedelta(days=3),
        covers_contraindication=Contraindication.objects.get(code="product-allergy"),
    )

    flag_scan.flag_scan(now=NOW)

    assert list(day.appointment.flags.values_list("kind", flat=True)) == ["clearance_expiring"]


def _many(count: int):
    """`count` clients, each with an appointment today after 10:00 and nothing changed."""
    days = [make_day(username=f"m{count}x{i}", second_finding=None) for i in range(count)]
    for i, day in enumerate(days):
        Appointment.objects.filter(pk=day.appointment.pk).update(
            starts_at=at(0, 12 + i), ends_at=at(0, 12 + i, 40), blocks_until=at(0, 12 + i, 55)
        )
    return days


def test_flag_scan_queries_per_appointment_are_fixed():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _many(1)
    with CaptureQueriesContext(connection) as one:
        assert flag_scan.flag_scan(now=NOW).checked == 1
    Appointment.objects.all().delete()
    cache.delete(flag_scan.LAST_SCAN_KEY)
    _many(6)
    with CaptureQueriesContext(connection) as six:
        assert flag_scan.flag_scan(now=NOW).checked == 6

    # As a set, whatever the number: what is due (with the previous sessions), the screenings, their
    # findings, clearances, overrides, and the new flags in one INSERT inside a savepoint (BEGIN/COMMIT
    # outside tests).
    assert (len(one), len(six)) == (8, 8)


# --- subscriptions and tasks ----------------------------------------------------------------------


def test_a_new_screening_queues_one_check_of_the_clients_upcoming_appointments_on_commit(
    django_capture_on_commit_callbacks,
):
    day = make_day(second_finding=None)
    another(day, starts_at=at(1, 12))
    another(day, starts_at=at(2, 12), status="cancelled")

    with mock.patch.object(tasks_flags.raise_client_flags, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            screen(day.client, "oncology", taken_at=NOW)
        assert apply_async.call_count == 0  # nothing before the commit
        for callback in callbacks:
            callback()

    # One task for the client: the sessions it holds make one notice, not one per session.
    assert [c.kwargs["args"] for c in apply_async.call_args_list] == [[day.client.pk, "screening"]]


def test_a_new_clearance_queues_a_check_of_the_clients_appointments(django_capture_on_commit_callbacks):
    from screening import services

    day = make_day(second_finding=None)

    with (
        mock.patch.object(tasks_flags.raise_client_flags, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.clearance_add(
            client=day.client,
            kind=Clearance.Kind.PERMISSION,
            doctor_name="Д-р Савченко",
            issued_on=TODAY,
            valid_until=TODAY + datetime.timedelta(days=60),
            covers_contraindication=Contraindication.objects.get(code="product-allergy"),
            created_by=None,
        )

    assert [c.kwargs["args"] for c in apply_async.call_args_list] == [[day.client.pk, "clearance"]]


def test_a_new_screening_for_a_client_without_appointments_queues_nothing(django_capture_on_commit_callbacks):
    from tests.factories import ClientFactory

    with (
        mock.patch.object(tasks_flags.raise_client_flags, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        screen(ClientFactory(), "oncology", taken_at=NOW)

    apply_async.assert_not_called()


def test_queue_flag_checks_a_broker_error_is_logged_and_queues_nothing(caplog):
    from kombu.exceptions import OperationalError

    day = make_day(second_finding=None)
    another(day, starts_at=at(1, 12))

    with mock.patch.object(
        tasks_flags.raise_client_flags, "apply_async", side_effect=OperationalError("down")
    ) as apply_async:
        assert subscriptions.queue_flag_checks(client_id=day.client.pk) == 0

    # One wait on a dead broker, not one per appointment; the scan catches up.
    assert apply_async.call_count == 1
    assert f"could not queue the flags check of client {day.client.pk}" in caplog.text


def test_subscriptions_a_gone_screening_or_clearance_queues_nothing():
    assert subscriptions.screening_recorded(987654) == 0
    assert subscriptions.clearance_changed(987654) == 0


@pytest.fixture
def dead_broker(settings):
    """The broker at a port where nothing listens (settings and the already configured Celery app)."""
    from parlor.celery import app

    # Fresh pools for the dead URL; the live ones are put back untouched for the tests after this one.
    saved = app.conf.broker_url, app._pool, app.amqp._producer_pool
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._pool = app.amqp._producer_pool = None
    yield
    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url, app._pool, app.amqp._producer_pool = saved


def test_recording_a_screening_succeeds_with_the_broker_down(
    dead_broker, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    day = make_day(second_finding=None)
    # The real publish against the dead broker, watched: how long it waits is the retry policy's
    # doing (one quick retry), which is what is asserted, not the seconds it took on this machine.
    publishes = []
    real_apply_async = tasks_flags.raise_client_flags.apply_async

    def watched_apply_async(*args, **kwargs):
        publishes.append(kwargs.get("retry_policy"))
        return real_apply_async(*args, **kwargs)

    monkeypatch.setattr(tasks_flags.raise_client_flags, "apply_async", watched_apply_async)

    with django_capture_on_commit_callbacks(execute=True):
        screening = screen(day.client, "oncology", taken_at=NOW)

    assert screening.pk is not None
    assert f"could not queue the flags check of client {day.client.pk}" in caplog.text
    assert publishes == [subscriptions.PUBLISH_RETRY]
    assert subscriptions.PUBLISH_RETRY["max_retries"] <= 1
    # The scan catches up.
    assert flag_scan.flag_scan(now=NOW).held == 1


def test_raise_flags_task_checks_the_appointment(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        tasks_flags.raise_flags(day.appointment.pk)

    assert status_of(day.appointment) == "on_hold"


def test_raise_flags_task_a_gone_appointment_is_no_error():
    tasks_flags.raise_flags(987654)


def test_scan_flags_task_runs_the_scan(django_capture_on_commit_callbacks):
    day = blocked_day()

    with django_capture_on_commit_callbacks(execute=True):
        tasks_flags.scan_flags()

    assert status_of(day.appointment) == "on_hold"
    assert len(mail.outbox) == 1


def test_tasks_have_explicit_names_and_acknowledge_late():
    for task, name in [
        (tasks_flags.raise_flags, "sessions.raise_flags"),
        (tasks_flags.scan_flags, "sessions.scan_flags"),
    ]:
        assert task.name == name
        assert task.acks_late is True


# --- safety never waits for Celery ----------------------------------------------------------------


def test_client_panel_shows_blocked_right_after_a_new_screening_with_no_worker(
    reception_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    day = make_day(second_finding=None)
    page = reception_client.get(reverse("clients:client-detail", args=[day.client.pk])).content.decode()
    assert 'data-status="blocked"' not in page

    # No worker runs here, and the queued checks go nowhere: the verdict is computed when the page loads.
    with (
        mock.patch.object(tasks_flags.raise_flags, "apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        screen(day.client, "oncology", taken_at=NOW)
    page = reception_client.get(reverse("clients:client-detail", args=[day.client.pk])).content.decode()

    assert 'data-testid="verdict-badge" data-status="blocked"' in page
    assert Flag.objects.count() == 0
    assert status_of(day.appointment) == "booked"
