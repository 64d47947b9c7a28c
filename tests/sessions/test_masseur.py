import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse

from parlor import roles
from sessions.care.checkin import DayOfAnswers, appointment_check_in
from sessions.care.myday import my_day
from sessions.care.review import PainSample, pain_chart
from sessions.flags.services import flag_acknowledge, flags_raise_for
from sessions.models import Appointment, DayOfCheck, Flag, Hold, Override, SessionLog
from tests.factories import ClientFactory, UserFactory
from tests.sessions.factories import AppointmentFactory
from tests.sessions.test_masseur_support import NOW, TODAY, at, logged_in, make_day, more_today, screen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _acknowledge_all(day):
    for flag in flags_raise_for(appointment=day.appointment):
        flag_acknowledge(flag=flag, by=day.user)


def _status(appointment) -> str:
    return Appointment.objects.get(pk=appointment.pk).status


# --- check-in -----------------------------------------------------------------------------------


def test_appointment_check_in_acute_pain_before_a_classic_massage_without_a_permission_holds():
    # The same rule as in a screening: massage only after the attack, with a doctor's permission.
    day = make_day(second_finding=None)

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(acute_pain=True), by=day.user)

    assert (check.outcome, check.hold_reason) == (
        DayOfCheck.Outcome.ON_HOLD,
        "Acute exacerbation of a back disease (acute pain)",
    )
    assert _status(day.appointment) == Appointment.Status.ON_HOLD
    hold = Hold.objects.get(appointment=day.appointment)
    assert (hold.cause, hold.advice, hold.source, hold.held_by) == ("day_of", "clearance", "check-in", day.user)


def test_appointment_check_in_acute_pain_with_a_valid_permission_checks_in():
    from screening.models import Clearance, Contraindication

    day = make_day(second_finding=None)
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=3),
        valid_until=TODAY + datetime.timedelta(days=30),
        covers_contraindication=Contraindication.objects.get(code="acute-back-pain"),
    )

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(acute_pain=True), by=day.user)

    assert check.outcome == DayOfCheck.Outcome.OK
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN


def test_appointment_check_in_fever_and_intoxication_name_both_in_the_hold_reason():
    day = make_day(second_finding=None)

    check = appointment_check_in(
        appointment=day.appointment, answers=DayOfAnswers(fever=True, intoxication=True), by=day.user
    )

    assert check.hold_reason == "High body temperature (fever), Alcohol or drug intoxication"
    assert Hold.objects.get(appointment=day.appointment).advice == "rebook"


def test_appointment_check_in_with_open_flags_is_refused():
    day = make_day()
    flags_raise_for(appointment=day.appointment)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.message_dict == {
        NON_FIELD_ERRORS: ["Acknowledge every flag before the session starts (open flags: 2)."]
    }
    assert _status(day.appointment) == Appointment.Status.BOOKED
    assert not DayOfCheck.objects.exists()


def test_appointment_check_in_all_clear_checks_in():
    day = make_day()
    _acknowledge_all(day)

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(menstruation=True), by=day.user)

    assert (check.outcome, check.checked_by, check.checked_at) == (DayOfCheck.Outcome.OK, day.user, NOW)
    assert check.answers == {"fever": False, "intoxication": False, "menstruation": True, "acute_pain": False}
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN
    assert mail.outbox == []


def test_appointment_check_in_twice_returns_the_first_check():
    day = make_day(second_finding=None)
    first = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(fever=True), by=day.user) == first


def test_appointment_check_in_fever_puts_on_hold_and_emails_reception(django_capture_on_commit_callbacks, settings):
    settings.RECEPTION_EMAIL = "desk@parlor.example"
    day = make_day(second_finding=None)

    with django_capture_on_commit_callbacks(execute=True):
        check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(fever=True), by=day.user)

    assert (check.outcome, check.hold_reason) == (DayOfCheck.Outcome.ON_HOLD, "High body temperature (fever)")
    assert _status(day.appointment) == Appointment.Status.ON_HOLD
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["desk@parlor.example"]
    # No health details: who and when, and "call the client".
    assert "fever" not in message.body.lower() and "температур" not in message.body.lower()
    assert day.client.full_name in message.body


def test_appointment_check_in_male_client_menstruation_not_recorded():
    day = make_day(second_finding=None)
    day.client.sex = "male"
    day.client.save()

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(menstruation=True), by=day.user)

    assert check.answers["menstruation"] is None


def test_appointment_check_in_on_hold_is_refused():
    day = make_day(second_finding=None)
    appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(intoxication=True), by=day.user)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.messages == ["The appointment is on hold; the reception calls the client to rebook."]


def test_appointment_check_in_blocked_verdict_is_refused():
    day = make_day(second_finding="oncology")
    _acknowledge_all(day)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.messages[0].startswith("The screening does not allow the session today (blocked)")
    assert _status(day.appointment) == Appointment.Status.BOOKED


def test_appointment_check_in_blocked_with_a_managers_override_of_that_block_checks_in():
    day = make_day(second_finding="oncology")
    _acknowledge_all(day)
    Override.objects.create(appointment=day.appointment, covers=["oncology"], reason="Дозвіл онколога", by=day.user)

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert check.outcome == DayOfCheck.Outcome.OK


def test_appointment_check_in_a_later_different_block_is_not_covered_by_an_earlier_override():
    # The override was written for the oncology; a first-trimester pregnancy recorded since blocks again.
    day = make_day(second_finding="oncology")
    Override.objects.create(appointment=day.appointment, covers=["oncology"], reason="Дозвіл онколога", by=day.user)
    screen(day.client, "oncology", "pregnancy", taken_at=at(-1, 9), details={"pregnancy": {"pregnancy_weeks": 8}})
    _acknowledge_all(day)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.messages == [
        "The screening does not allow the session today (blocked): Pregnancy: no massage in the first trimester."
    ]
    assert _status(day.appointment) == Appointment.Status.BOOKED


def test_appointment_check_in_awaiting_clearance_is_refused():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.AWAITING_CLEARANCE)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.messages == [
        "The session awaits a screening or a doctor's clearance: it starts once it is recorded."
    ]
    assert not DayOfCheck.objects.exists()


def test_appointment_check_in_needs_screening_is_refused():
    day = make_day(second_finding=None)
    with time_machine.travel(NOW + datetime.timedelta(days=120), tick=False):
        Appointment.objects.filter(pk=day.appointment.pk).update(
            starts_at=at(120, 12), ends_at=at(120, 12, 40), blocks_until=at(120, 12, 55)
        )
        _acknowledge_all(day)
        with pytest.raises(ValidationError) as exc:
            appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert "needs a screening" in exc.value.messages[0]


# --- My day -------------------------------------------------------------------------------------


def test_my_day_lists_own_appointments_in_order_with_progress_and_flags():
    day = make_day()
    flags_raise_for(appointment=day.appointment)
    early = AppointmentFactory(
        client=ClientFactory(), massage_type=day.massage_type, masseur=day.masseur, room=day.room, starts_at=at(0, 9)
    )
    other = make_day(username="petro")

    rows = my_day(masseur=day.masseur, day=TODAY)

    assert [r.appointment.pk for r in rows] == [early.pk, day.appointment.pk]
    assert [(r.session_number, r.planned, r.open_flags) for r in rows] == [(None, None, 0), (1, 10, 2)]
    assert [r.verdict.status.value for r in rows] == ["needs-screening", "adapted"]
    assert other.appointment.pk not in [r.appointment.pk for r in rows]


def test_my_day_view_shows_only_own_clients():
    day = make_day()
    other = make_day(username="petro")

    response = logged_in(day.user).get(reverse("sessions:my-day"))

    assert response.status_code == 200
    assert day.client.full_name in response.content.decode()
    assert other.client.full_name not in response.content.decode()


def test_my_day_view_without_a_masseur_profile_is_forbidden(reception_client):
    assert reception_client.get(reverse("sessions:my-day")).status_code == 403


@pytest.mark.parametrize("count", [1, 8])
def test_my_day_view_query_count_does_not_grow(count, django_assert_max_num_queries):
    day = make_day()
    more_today(day, count)
    web = logged_in(day.user)

    # The course positions and starts, the flags and the overrides ride on the appointments query.
    with django_assert_max_num_queries(9) as captured:
        response = web.get(reverse("sessions:my-day"))

    assert len(response.context["rows"]) == count + 1
    print(f"my day with {count + 1} appointments: {len(captured)} queries")


def test_dashboard_shows_my_day_panel_to_a_masseur_only(reception_client):
    day = make_day()

    masseur_page = logged_in(day.user).get(reverse("parlor:dashboard")).content.decode()
    reception_page = reception_client.get(reverse("parlor:dashboard")).content.decode()

    assert 'data-testid="myday-panel"' in masseur_page and day.client.full_name in masseur_page
    assert 'data-testid="myday-panel"' not in reception_page


# --- review -------------------------------------------------------------------------------------


def test_review_raises_flags_and_shows_the_change_and_adaptations():
    day = make_day()

    response = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert Flag.objects.filter(appointment=day.appointment).count() == 2
    assert "What changed since the booking" in page
    assert "+ Kidney disease" in page
    assert "Allergen rose is not to be used." in page
    assert page.count('data-testid="flag-acknowledge"') == 2


def test_review_by_another_masseur_is_forbidden():
    day = make_day()
    other = make_day(username="petro")

    response = logged_in(other.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk]))

    assert response.status_code == 403


def test_review_by_reception_is_forbidden_and_by_manager_allowed(reception_client, manager_client):
    day = make_day()
    url = reverse("sessions:appointment-review", args=[day.appointment.pk])

    assert reception_client.get(url).status_code == 403
    assert manager_client.get(url).status_code == 200


def test_review_pain_chart_is_inline_svg():
    chart = pain_chart([PainSample("1", "Session 1", 7, 4), PainSample("2", "Session 2", 5, 2)])

    assert chart.before == "44.0,58.2 386.0,89.0"
    assert chart.after == "44.0,104.4 386.0,135.2"
    assert [(tick.at, tick.label) for tick in chart.grid] == [
        ("166.0", "0"),
        ("135.2", "2"),
        ("104.4", "4"),
        ("73.6", "6"),
        ("42.8", "8"),
        ("12.0", "10"),
    ]
    assert chart.summary == "Pain fell from 7 to 2 over 2 sessions."


def test_flag_acknowledge_view_records_and_returns_to_review():
    day = make_day()
    flag = flags_raise_for(appointment=day.appointment)[0]

    response = logged_in(day.user).post(reverse("sessions:flag-acknowledge", args=[flag.pk]))

    assert response.status_code == 302
    assert response.url == reverse("sessions:appointment-review", args=[day.appointment.pk])
    flag.refresh_from_db()
    assert (flag.acknowledged_by, flag.acknowledged_at) == (day.user, NOW)


def test_flag_acknowledge_view_by_another_masseur_is_forbidden():
    day = make_day()
    flag = flags_raise_for(appointment=day.appointment)[0]
    other = UserFactory(username="petro", role=roles.MASSEUR)

    assert logged_in(other).post(reverse("sessions:flag-acknowledge", args=[flag.pk])).status_code == 403
    assert Flag.objects.get(pk=flag.pk).acknowledged_at is None


# --- check-in and log pages ---------------------------------------------------------------------


def test_checkin_view_with_open_flags_shows_the_refusal():
    day = make_day()
    flags_raise_for(appointment=day.appointment)
    url = reverse("sessions:appointment-checkin", args=[day.appointment.pk])

    response = logged_in(day.user).post(
        url, {"fever": "no", "intoxication": "no", "menstruation": "no", "acute_pain": "no"}
    )

    assert response.status_code == 200
    assert "Acknowledge every flag before the session starts (open flags: 2)." in response.content.decode()


def test_checkin_view_happy_path_goes_to_the_log():
    day = make_day(second_finding=None)
    url = reverse("sessions:appointment-checkin", args=[day.appointment.pk])

    response = logged_in(day.user).post(
        url, {"fever": "no", "intoxication": "no", "menstruation": "no", "acute_pain": "no"}
    )

    assert response.url == reverse("sessions:sessionlog-edit", args=[day.appointment.pk])
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN


def test_checkin_view_by_reception_is_forbidden(reception_client):
    day = make_day(second_finding=None)

    response = reception_client.post(reverse("sessions:appointment-checkin", args=[day.appointment.pk]), {})

    assert response.status_code == 403


def _log_post(**overrides):
    data = {
        "log_id": "",
        "technique_1": "stroking",
        "technique_2": "rubbing",
        "technique_3": "kneading",
        "technique_4": "percussion-vibration",
        "technique_5": "stroking",
        "areas_worked": ["neck", "shoulders"],
        "areas_avoided": ["spine"],
        "direction": "bottom-up",
        "pressure": "medium",
        "pain_before": "6",
        "pain_after": "3",
        "products": "almond oil",
        "duration_minutes": "40",
        "subjective": "Болить поперек",
        "objective": "",
        "assessment": "",
        "plan": "",
    }
    return data | overrides


@pytest.fixture
def checked_in():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)
    return day


def test_sessionlog_page_prefills_the_standard_order_and_areas_to_avoid(checked_in):
    response = logged_in(checked_in.user).get(reverse("sessions:sessionlog-edit", args=[checked_in.appointment.pk]))

    form = response.context["form"]
    assert [form.initial[f"technique_{n}"] for n in range(1, 6)] == [
        "stroking",
        "rubbing",
        "kneading",
        "percussion-vibration",
        "stroking",
    ]
    assert form.initial["areas_avoided"] == ["spine", "kidney-area", "heart-area", "lymph-nodes"]
    assert form.initial["direction"] == "bottom-up"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pain_before", "11", "Pain is a number from 0 to 10."),
        ("duration_minutes", "600", "A session lasts from 1 to 180 minutes."),
        ("duration_minutes", "0", "A session lasts from 1 to 180 minutes."),
        ("products", "Rose oil", "Rose oil: the client is allergic to rose."),
        ("pain_after", "abc", "Enter a whole number."),
    ],
)
def test_sessionlog_page_bad_input_keeps_what_was_typed(checked_in, field, value, message):
    url = reverse("sessions:sessionlog-edit", args=[checked_in.appointment.pk])

    response = logged_in(checked_in.user).post(url, _log_post(**{field: value}, sign="Sign"))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"][field].value() == value
    assert not SessionLog.objects.exists()


def test_sessionlog_page_sign_then_read_only_with_addendum(checked_in):
    web = logged_in(checked_in.user)
    url = reverse("sessions:sessionlog-edit", args=[checked_in.appointment.pk])

    web.post(url, _log_post(sign="Sign"))
    stale = web.post(url, _log_post(pain_after="0", sign="Sign"))
    added = web.post(url, {"text": "Забула записати: тальк."}, follow=True)

    log = SessionLog.objects.get()
    assert log.status == SessionLog.Status.SIGNED and log.pain_after == 3
    assert stale.status_code == 302
    page = added.content.decode()
    assert "Забула записати: тальк." in page
    assert 'data-testid="addendum-form"' in page
    assert _status(checked_in.appointment) == Appointment.Status.COMPLETED


def test_sessionlog_page_by_another_masseur_is_forbidden(checked_in):
    other = make_day(username="petro", second_finding=None)

    response = logged_in(other.user).get(reverse("sessions:sessionlog-edit", args=[checked_in.appointment.pk]))

    assert response.status_code == 403


def test_sessionlog_page_for_a_cancelled_appointment_says_so(checked_in):
    Appointment.objects.filter(pk=checked_in.appointment.pk).update(status=Appointment.Status.CANCELLED)
    url = reverse("sessions:sessionlog-edit", args=[checked_in.appointment.pk])

    response = logged_in(checked_in.user).post(url, _log_post(save="Save draft"))

    assert response.status_code == 200
    assert "The appointment is cancelled: no session log can be written for it." in response.content.decode()


def test_client_page_links_to_history_for_own_masseur_only(reception_client):
    day = make_day(second_finding=None)
    url = reverse("clients:client-detail", args=[day.client.pk])

    assert 'data-testid="history-link"' in logged_in(day.user).get(url).content.decode()
    assert 'data-testid="history-link"' not in reception_client.get(url).content.decode()


def test_screen_helper_second_screening_is_the_latest():
    day = make_day()
    newer = screen(day.client, taken_at=at(-1, 9))

    assert newer.pk > day.second_screening.pk


def test_review_shows_the_pain_chart_and_the_last_three_signed_logs():
    from tests.sessions.test_history import _signed_sessions

    day = make_day(second_finding=None)
    _signed_sessions(day, 4)

    response = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk]))

    page = response.content.decode()
    assert len(response.context["recent_logs"]) == 3
    assert len(response.context["chart"].points) == 4
    assert page.count("<polyline") == 2
    assert "<script" not in page.split('data-testid="pain-chart"')[1].split("</svg>")[0]
