"""Holds: every change that stops a booked appointment holds it once, says why (to each role what it may
see), tells the front desk once per change and the client with one neutral message, and is released only
by an action."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from parlor import roles
from screening import services as screening_services
from screening.models import Clearance, Contraindication, Screening
from sessions.booking import holds
from sessions.flags import scan as flag_scan
from sessions.flags import tasks as tasks_flags
from sessions.models import Appointment, DayOfCheck, Hold, Override, Reminder
from sessions.reminders import outbox, planning
from sessions.reminders import tasks as tasks_reminders
from tests.factories import UserFactory
from tests.sessions.factories import AppointmentFactory
from tests.sessions.test_masseur_support import NOW, TODAY, at, logged_in, make_day, screen

pytestmark = pytest.mark.django_db

HEALTH_WORDS = ["ncolog", "нколог", "kidney", "нирок", "skin", "шкір", "rose", "allerg", "алерг", "pregnan", "вагітн"]


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """What would be queued for the worker: reminder sends and client checks (no broker in unit tests)."""
    sent: dict[str, list] = {"reminders": [], "checks": []}
    monkeypatch.setattr(tasks_reminders, "queue_sends", lambda ids: sent["reminders"].extend(ids))
    monkeypatch.setattr(
        tasks_flags.raise_client_flags, "apply_async", lambda args, **kwargs: sent["checks"].append(args)
    )
    return sent


def status_of(appointment) -> str:
    return Appointment.objects.values_list("status", flat=True).get(pk=appointment.pk)


def session(day, *, days, status=Appointment.Status.BOOKED):
    """Another session of the day's course, `days` from today at 12:00, booked five days ago."""
    appointment = AppointmentFactory(
        client=day.client,
        massage_type=day.massage_type,
        masseur=day.masseur,
        room=day.room,
        course=day.course,
        starts_at=at(days, 12),
        status=status,
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=at(-5, 9))
    appointment.refresh_from_db()
    return appointment


def permission(day, code, *, valid_until=None, issued_on=None):
    return Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=issued_on or TODAY - datetime.timedelta(days=1),
        valid_until=valid_until or TODAY + datetime.timedelta(days=60),
        covers_contraindication=Contraindication.objects.get(code=code),
    )


def self_report(client, *codes, taken_at, details=None):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    details = details or {}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(contraindication=catalogue[code], details=details.get(code, {}))
            for code in codes
        ],
        taken_by=None,
        source=Screening.Source.SELF_REPORTED,
        submission_key=__import__("uuid").uuid4(),
        taken_at=taken_at,
    )


# --- what holds -----------------------------------------------------------------------------------


def test_a_new_finding_that_needs_a_clearance_holds_the_appointment(django_capture_on_commit_callbacks):
    day = make_day(second_finding="skin-disease")

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert result.held is True
    hold = Hold.objects.get(appointment=day.appointment)
    assert (hold.cause, hold.advice, hold.source, hold.held_by) == ("health", "clearance", "scan", None)
    assert hold.concerns == [{"code": "skin-disease", "name": "Skin disease"}]
    assert len(mail.outbox) == 1
    assert "Ask the client for a doctor's permission." in mail.outbox[0].body


def test_a_self_reported_first_trimester_pregnancy_holds_the_courses_sessions_with_one_notice(
    django_capture_on_commit_callbacks, queued
):
    day = make_day(second_finding=None)
    later = [session(day, days=1), session(day, days=2)]

    with django_capture_on_commit_callbacks(execute=True):
        self_report(day.client, "pregnancy", taken_at=at(0, 8), details={"pregnancy": {"pregnancy_weeks": 6}})
    # The event queued one check of the client; the worker runs it.
    assert queued["checks"] == [[day.client.pk, "self-report"]]
    with django_capture_on_commit_callbacks(execute=True):
        flag_scan.client_flags_check(client_id=day.client.pk, source="self-report")

    assert [status_of(a) for a in [day.appointment, *later]] == ["on_hold"] * 3
    assert set(Hold.objects.values_list("source", "advice")) == {("self-report", "override")}
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "These appointments of" in body
    for when in ("1 March 2027, 12:00", "2 March 2027, 12:00", "3 March 2027, 12:00"):
        assert when in body
    for word in HEALTH_WORDS:
        assert word not in body.lower()
    # One neutral message to the client for the three.
    assert Reminder.objects.filter(kind=Reminder.Kind.ON_HOLD).count() == 1


def test_an_expired_clearance_holds_the_appointment_at_the_scan(django_capture_on_commit_callbacks):
    day = make_day(second_finding=None)
    screen(day.client, "skin-disease", taken_at=at(-8, 9))
    permission(
        day, "skin-disease", issued_on=TODAY - datetime.timedelta(days=20), valid_until=TODAY - datetime.timedelta(1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flag_scan(now=NOW, since=NOW - datetime.timedelta(minutes=5))

    assert result.held == 1
    assert Hold.objects.get(appointment=day.appointment).advice == "clearance"


def test_a_self_report_leaving_out_a_staff_finding_neither_releases_nor_flags_it_removed(
    django_capture_on_commit_callbacks,
):
    day = make_day(second_finding=None)
    self_report(day.client, taken_at=at(-1, 9))  # "no" to everything, the rose allergy included

    with django_capture_on_commit_callbacks(execute=True):
        result = flag_scan.flags_check(appointment=day.appointment)

    assert result.flags == []
    assert status_of(day.appointment) == "booked"


def test_a_hold_is_made_once_by_two_checks():
    day = make_day(second_finding="oncology")

    first = flag_scan.flags_check(appointment=day.appointment)
    second = flag_scan.flags_check(appointment=Appointment.objects.get(pk=day.appointment.pk))

    assert (first.held, second.held) == (True, False)
    assert Hold.objects.count() == 1


# --- releasing ------------------------------------------------------------------------------------


def held(day, **kwargs):
    flag_scan.flags_check(appointment=day.appointment, **kwargs)
    day.appointment.refresh_from_db()
    return Hold.objects.get(appointment=day.appointment)


def test_release_is_refused_while_the_verdict_still_stops_it():
    day = make_day(second_finding="skin-disease")
    held(day)

    with pytest.raises(ValidationError) as exc:
        holds.appointment_release(appointment=day.appointment, by=day.user)

    assert exc.value.messages == ["A doctor's clearance must be recorded first."]
    assert status_of(day.appointment) == "on_hold"


def test_release_once_a_clearance_is_recorded_books_it_again_and_keeps_the_history():
    day = make_day(second_finding="skin-disease")
    hold = held(day)
    desk = UserFactory(username="desk", role=roles.RECEPTIONIST)
    permission(day, "skin-disease")

    holds.appointment_release(appointment=day.appointment, by=desk)

    assert status_of(day.appointment) == "booked"
    hold.refresh_from_db()
    assert (hold.released_at, hold.released_by, hold.release_note) == (NOW, desk, "The screening allows it again.")
    assert Hold.objects.count() == 1


def test_release_of_a_block_needs_a_managers_written_override_of_that_block(manager):
    day = make_day(second_finding="oncology")
    held(day)

    with pytest.raises(ValidationError) as exc:
        holds.appointment_release(appointment=day.appointment, by=manager)
    assert exc.value.messages == ["Massage is still contraindicated: only a manager's written override releases it."]

    holds.appointment_release(appointment=day.appointment, by=manager, override_reason="Лист онколога від 20.02")

    assert status_of(day.appointment) == "booked"
    override = Override.objects.get(appointment=day.appointment)
    assert (override.covers, override.by, override.reason) == (["oncology"], manager, "Лист онколога від 20.02")
    assert Hold.objects.get().release_note == "A manager's written override."


def test_release_with_an_override_by_reception_is_forbidden():
    day = make_day(second_finding="oncology")
    held(day)
    desk = UserFactory(username="desk", role=roles.RECEPTIONIST)

    with pytest.raises(PermissionDenied):
        holds.appointment_release(appointment=day.appointment, by=desk, override_reason="she insists")

    assert status_of(day.appointment) == "on_hold"
    assert not Override.objects.exists()


def test_release_of_a_day_of_hold_waits_for_a_move_to_another_day():
    from sessions.booking.services import appointment_move
    from sessions.care.checkin import DayOfAnswers, appointment_check_in
    from tests.factories import WorkingHoursFactory

    day = make_day(second_finding=None)
    appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(fever=True), by=day.user)
    day.appointment.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        holds.appointment_release(appointment=day.appointment, by=day.user)
    assert exc.value.messages == ["The answers on the day stopped this session: move it to another day first."]

    WorkingHoursFactory(masseur=day.masseur, weekday=2, starts=datetime.time(9), ends=datetime.time(18))
    manager = UserFactory(username="boss", role=roles.MANAGER)
    appointment_move(appointment=day.appointment, starts_at=at(2, 12), moved_by=manager)
    holds.appointment_release(appointment=day.appointment, by=manager)

    assert status_of(day.appointment) == "booked"
    assert DayOfCheck.objects.get().outcome == "on_hold"  # the day's answers stay on record


# --- what the client gets -------------------------------------------------------------------------


def test_no_reminder_goes_out_for_an_appointment_on_hold_and_it_is_due_again_once_released():
    day = make_day(second_finding="skin-disease")
    reminder = planning.plan_appointment(Appointment.objects.get(pk=day.appointment.pk), now=at(-3, 9))[0]
    Reminder.objects.filter(pk=reminder.pk).update(due_at=at(-1, 12))
    held(day)

    assert outbox.send_one(reminder.pk) == "skipped"
    reminder.refresh_from_db()
    assert reminder.reason == Reminder.Reason.ON_HOLD

    permission(day, "skin-disease")
    holds.appointment_release(appointment=day.appointment, by=day.user)
    reminder.refresh_from_db()
    assert reminder.state == "due"
    assert outbox.send_one(reminder.pk) == "sent"
    assert "/confirm/" in mail.outbox[-1].body  # booked again: the confirm link is back


def test_the_client_gets_one_neutral_please_call_message_per_hold():
    day = make_day(second_finding="oncology")
    day.client.language = "en"
    day.client.save()
    held(day)

    reminder = Reminder.objects.get(kind=Reminder.Kind.ON_HOLD)
    assert outbox.send_one(reminder.pk) == "sent"

    message = mail.outbox[-1]
    text = " ".join([message.subject, message.body, message.alternatives[0][0]]).lower()
    assert message.to == [day.client.email]
    assert message.subject == "Please call us about your massage"
    assert "+380 44 000 00 00" in message.body
    for word in [*HEALTH_WORDS, "/r/", "confirm"]:
        assert word not in text
    held(day)  # a second check of the same hold
    assert Reminder.objects.filter(kind=Reminder.Kind.ON_HOLD).count() == 1


def test_a_moved_email_for_an_appointment_on_hold_carries_no_confirm_link():
    day = make_day(second_finding="oncology")
    held(day)
    moved = Reminder.objects.create(
        client=day.client,
        appointment=day.appointment,
        kind=Reminder.Kind.MOVED,
        key=planning.appointment_key(day.appointment, Reminder.Kind.MOVED),
        due_at=NOW,
    )

    assert outbox.send_one(moved.pk) == "sent"
    assert "/r/" not in mail.outbox[-1].body


# --- the front desk's notice ----------------------------------------------------------------------


def test_the_check_in_hold_notice_goes_to_the_reception_address(settings, django_capture_on_commit_callbacks):
    from sessions.care.checkin import DayOfAnswers, appointment_check_in

    settings.RECEPTION_EMAIL = "desk@parlor.example"
    day = make_day(second_finding=None)

    with django_capture_on_commit_callbacks(execute=True):
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(intoxication=True), by=day.user)

    assert [m.to for m in mail.outbox] == [["desk@parlor.example"]]
    assert "Call the client to move the session to another day." in mail.outbox[0].body
    # The client is at the parlor: no "please call us" message for a day-of hold.
    assert not Reminder.objects.filter(kind=Reminder.Kind.ON_HOLD).exists()


# --- what each role sees --------------------------------------------------------------------------


def _held_day(username="olena"):
    day = make_day(username=username, second_finding="oncology")
    held(day)
    return day


def test_appointment_page_reception_sees_the_hold_and_what_to_do_not_the_finding(reception_client):
    day = _held_day()

    page = reception_client.get(reverse("sessions:appointment-detail", args=[day.appointment.pk])).content.decode()

    assert 'data-testid="hold-reason"' in page
    assert "On hold for health reasons" in page
    assert "No massage for now: the manager decides (a written override) or the client rebooks." in page
    assert "the automatic check" in page
    assert "1 March, 10:00" in page
    assert "Oncological disease" not in page
    assert 'data-testid="release"' not in page


def test_appointment_page_manager_sees_the_finding_and_the_override_release(manager_client):
    day = _held_day()

    page = manager_client.get(reverse("sessions:appointment-detail", args=[day.appointment.pk])).content.decode()

    assert '<span data-testid="hold-concerns">Oncological disease</span>' in page
    assert 'data-testid="override-release"' in page


def test_appointment_page_offers_reception_the_release_once_the_verdict_allows(reception_client):
    day = make_day(second_finding="skin-disease")
    held(day)
    url = reverse("sessions:appointment-detail", args=[day.appointment.pk])
    assert 'data-testid="release"' not in reception_client.get(url).content.decode()
    permission(day, "skin-disease")

    assert 'data-testid="release"' in reception_client.get(url).content.decode()
    response = reception_client.post(reverse("sessions:appointment-release", args=[day.appointment.pk]))

    assert response.status_code == 302
    assert status_of(day.appointment) == "booked"
    page = reception_client.get(url).content.decode()
    assert 'data-testid="hold-history"' in page
    assert "Released 1 March, 10:00 by" in page


def test_release_view_refuses_reception_while_blocked_and_says_why(reception_client):
    day = _held_day()

    response = reception_client.post(
        reverse("sessions:appointment-release", args=[day.appointment.pk]), {"override_reason": "please"}
    )

    assert response.status_code == 403
    assert status_of(day.appointment) == "on_hold"


def test_release_view_manager_override_releases(manager_client, manager):
    day = _held_day()

    response = manager_client.post(
        reverse("sessions:appointment-release", args=[day.appointment.pk]), {"override_reason": "Лист онколога"}
    )

    assert response.status_code == 302
    assert status_of(day.appointment) == "booked"


def test_release_view_masseur_may_not(masseur_client):
    day = _held_day()
    assert masseur_client.post(reverse("sessions:appointment-release", args=[day.appointment.pk])).status_code == 403


def test_calendar_day_shows_why_on_hold_to_each_role_what_it_may_see(reception_client, manager_client):
    _held_day()
    url = reverse("sessions:calendar-day", args=[TODAY.isoformat()])

    desk = reception_client.get(url).content.decode()
    boss = manager_client.get(url).content.decode()

    for page in (desk, boss):
        assert 'data-testid="hold-reason"' in page
        assert "No massage for now" in page
    assert "Oncological disease" not in desk
    assert '<span data-testid="hold-concerns">Oncological disease</span>' in boss


def test_calendar_day_the_clients_masseur_sees_the_finding():
    day = _held_day()

    page = logged_in(day.user).get(reverse("sessions:calendar-day", args=[TODAY.isoformat()])).content.decode()

    assert '<span data-testid="hold-concerns">Oncological disease</span>' in page


def test_dashboard_on_hold_list_says_why_without_the_finding_to_reception(reception_client):
    _held_day()

    page = reception_client.get(reverse("parlor:dashboard")).content.decode()

    on_hold = page[page.index('data-testid="on-hold"') :]
    assert "On hold for health reasons" in on_hold
    assert "No massage for now" in on_hold
    assert "Oncological disease" not in page


def test_my_day_shows_the_masseur_why_and_the_finding():
    day = _held_day()

    page = logged_in(day.user).get(reverse("sessions:my-day")).content.decode()

    assert "On hold for health reasons" in page
    assert '<span data-testid="hold-concerns">Oncological disease</span>' in page


@pytest.mark.parametrize("count", [1, 6])
def test_calendar_day_with_holds_keeps_a_fixed_number_of_queries(
    count, reception_client, django_assert_max_num_queries
):
    for number in range(count):
        _held_day(username=f"m{count}x{number}")

    # Whether the parlor is closed that day (issue 12); the flags no longer take a query of their own.
    with django_assert_max_num_queries(13):
        response = reception_client.get(reverse("sessions:calendar-day", args=[TODAY.isoformat()]))

    assert response.content.decode().count('data-testid="hold-reason"') == count
