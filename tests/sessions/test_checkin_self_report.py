"""Check-in after a self-reported screening: the masseur confirms going through the client's answers."""

import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from screening.models import Contraindication, Screening
from screening.services import FindingInput
from sessions.care.checkin import DayOfAnswers, appointment_check_in, self_reported_screening
from sessions.models import Appointment, DayOfCheck
from sessions.reminders.client_actions import self_screening_record
from tests.sessions.test_masseur_support import NOW, at, logged_in, make_day, screen

pytestmark = pytest.mark.django_db

ANSWERS = {"fever": "no", "intoxication": "no", "menstruation": "no", "acute_pain": "no"}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _self_report(client) -> Screening:
    """The client answers from the emailed link the day before: the same rose allergy as before."""
    with time_machine.travel(at(-1, 20), tick=False):
        return self_screening_record(
            client=client,
            answers={"questions": {"product-allergy": {"answer": True}}},
            findings=[
                FindingInput(
                    contraindication=Contraindication.objects.get(code="product-allergy"),
                    details={"allergens": ["rose"]},
                )
            ],
            submission_key=uuid.uuid4(),
        )


def _status(appointment) -> str:
    return Appointment.objects.get(pk=appointment.pk).status


def _url(day) -> str:
    return reverse("sessions:appointment-checkin", args=[day.appointment.pk])


# --- the service --------------------------------------------------------------------------------


def test_self_reported_screening_staff_screening_is_none():
    day = make_day(second_finding=None)

    assert self_reported_screening(day.appointment) is None


def test_appointment_check_in_self_reported_without_confirmation_is_refused():
    day = make_day(second_finding=None)
    _self_report(day.client)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert exc.value.message_dict == {
        "self_report_confirmed": ["Go through the self-reported answers with the client before the session starts."]
    }
    assert _status(day.appointment) == Appointment.Status.BOOKED
    assert not DayOfCheck.objects.exists()


def test_appointment_check_in_self_reported_confirmed_records_the_screening():
    day = make_day(second_finding=None)
    reported = _self_report(day.client)

    check = appointment_check_in(
        appointment=day.appointment, answers=DayOfAnswers(), by=day.user, confirmed_screening_id=reported.pk
    )

    assert (check.confirmed_screening, check.checked_by, check.checked_at) == (reported, day.user, NOW)
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN


def test_appointment_check_in_newer_self_report_than_the_confirmed_one_is_refused():
    day = make_day(second_finding=None)
    seen = _self_report(day.client)
    with time_machine.travel(at(0, 9), tick=False):
        _self_report(day.client)

    with pytest.raises(ValidationError) as exc:
        appointment_check_in(
            appointment=day.appointment, answers=DayOfAnswers(), by=day.user, confirmed_screening_id=seen.pk
        )

    assert exc.value.message_dict == {
        "self_report_confirmed": [
            "The client sent newer answers since this page was opened; go through them and confirm again."
        ]
    }
    assert not DayOfCheck.objects.exists()


def test_appointment_check_in_staff_screening_after_a_self_report_needs_no_confirmation():
    day = make_day(second_finding=None)
    _self_report(day.client)
    screen(day.client, "product-allergy", taken_at=at(0, 9), details={"product-allergy": {"allergens": ["rose"]}})

    check = appointment_check_in(appointment=day.appointment, answers=DayOfAnswers(), by=day.user)

    assert check.confirmed_screening is None
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN


# --- the page -----------------------------------------------------------------------------------


def test_checkin_view_self_reported_shows_the_answers_and_the_checkbox():
    day = make_day(second_finding=None)
    reported = _self_report(day.client)

    html = logged_in(day.user).get(_url(day)).content.decode()

    assert 'data-testid="checkin-self-reported"' in html
    assert "The client filled in the health questionnaire themselves on 28 February 2027, 20:00." in html
    assert f'href="{reverse("screening:screening-detail", args=[reported.pk])}"' in html
    assert 'data-testid="checkin-self-report-confirm"' in html
    assert "I went through the self-reported answers with the client" in html


def test_checkin_view_staff_screening_shows_no_checkbox():
    day = make_day(second_finding=None)

    html = logged_in(day.user).get(_url(day)).content.decode()

    assert 'data-testid="checkin-self-reported"' not in html
    assert "self_report_confirmed" not in html


def test_checkin_view_self_reported_unticked_is_refused_beside_the_box():
    day = make_day(second_finding=None)
    reported = _self_report(day.client)

    response = logged_in(day.user).post(_url(day), {**ANSWERS, "confirmed_screening": reported.pk})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "self_report_confirmed": ["Go through the self-reported answers with the client before the session starts."]
    }
    assert _status(day.appointment) == Appointment.Status.BOOKED
    assert not DayOfCheck.objects.exists()


def test_checkin_view_self_reported_ticked_checks_in_and_records_it():
    day = make_day(second_finding=None)
    reported = _self_report(day.client)

    response = logged_in(day.user).post(
        _url(day), {**ANSWERS, "confirmed_screening": reported.pk, "self_report_confirmed": "on"}
    )

    assert response.url == reverse("sessions:sessionlog-edit", args=[day.appointment.pk])
    check = DayOfCheck.objects.get(appointment=day.appointment)
    assert (check.confirmed_screening_id, check.checked_by_id) == (reported.pk, day.user.pk)
    assert _status(day.appointment) == Appointment.Status.CHECKED_IN


def test_checkin_view_self_reported_by_reception_is_forbidden(reception_client):
    day = make_day(second_finding=None)
    reported = _self_report(day.client)

    response = reception_client.post(
        _url(day), {**ANSWERS, "confirmed_screening": reported.pk, "self_report_confirmed": "on"}
    )

    assert response.status_code == 403
    assert not DayOfCheck.objects.exists()
