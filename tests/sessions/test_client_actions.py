"""Clients' own actions from email links: the services, and the self-screening page."""

import datetime
import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from screening import selectors
from screening.models import Contraindication, Screening
from screening.services import FindingInput
from sessions.models import Appointment, Reminder, ReminderPolicy
from sessions.reminders import client_actions, links
from tests.factories import ClientFactory
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
START = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def appointment():
    return AppointmentFactory(client=ClientFactory(language="en"), starts_at=START)


def answers(key, yes=(), **extra):
    data = {"submission_key": str(key), "notes": ""}
    for entry in selectors.questionnaire():
        if entry.is_day_of:
            continue
        data[f"q_{entry.code}"] = "yes" if entry.code in yes else "no"
        data[f"note_{entry.code}"] = ""
    data.update(extra)
    return data


# --- confirm and cancel services --------------------------------------------------------------------


def test_confirm_by_client_sets_confirmed_then_reports_no_change(appointment):
    first = client_actions.appointment_confirm_by_client(appointment=appointment)
    second = client_actions.appointment_confirm_by_client(appointment=appointment)
    assert (first.changed, second.changed) == (True, False)
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CONFIRMED


def test_confirm_by_client_refuses_an_on_hold_appointment(appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.ON_HOLD)
    with pytest.raises(ValidationError) as error:
        client_actions.appointment_confirm_by_client(appointment=appointment)
    assert error.value.code == "on_hold"
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.ON_HOLD


def test_cancel_by_client_after_the_cutoff_is_too_late(appointment):
    with pytest.raises(ValidationError) as error:
        client_actions.appointment_cancel_by_client(appointment=appointment, now=START - datetime.timedelta(hours=12))
    assert error.value.code == client_actions.TOO_LATE
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_cancel_by_client_before_the_cutoff_cancels_without_a_user(appointment):
    result = client_actions.appointment_cancel_by_client(
        appointment=appointment, now=START - datetime.timedelta(hours=12, seconds=1)
    )
    assert result.changed is True
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.status, saved.cancelled_by_id) == (Appointment.Status.CANCELLED, None)


def test_cancel_by_client_of_a_completed_appointment_is_refused(appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.COMPLETED)
    with pytest.raises(ValidationError) as error:
        client_actions.appointment_cancel_by_client(appointment=appointment)
    assert error.value.code == "not_upcoming"


def test_cancel_deadline_uses_the_policy(appointment):
    policy = ReminderPolicy.current()
    policy.cancel_cutoff_hours = 0
    assert client_actions.cancel_deadline(appointment=appointment, policy=policy) == START


# --- self-screening service -------------------------------------------------------------------------


def test_self_screening_is_marked_self_reported_and_idempotent(appointment):
    key = uuid.uuid4()
    fever = Contraindication.objects.get(code="fever")
    kwargs = {
        "client": appointment.client,
        "answers": {"questions": {"fever": {"answer": True}}},
        "findings": [FindingInput(contraindication=fever)],
        "submission_key": key,
        "notes": "felt hot yesterday",
    }
    first = client_actions.self_screening_record(**kwargs)
    second = client_actions.self_screening_record(**kwargs)
    assert first.pk == second.pk
    assert Screening.objects.filter(client=appointment.client).count() == 1
    assert first.source == Screening.Source.SELF_REPORTED
    assert first.taken_by is None
    assert first.answers["self_reported"] is True
    assert first.notes == "self-reported: felt hot yesterday"


# --- the self-screening page ------------------------------------------------------------------------


def test_self_screening_get_and_head_change_nothing(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    response = client.get(url)
    assert client.head(url).status_code == 200
    assert response.status_code == 200
    assert Screening.objects.count() == 0
    assert Reminder.objects.count() == 0
    content = response.content.decode()
    oncology = Contraindication.objects.get(code="oncology")
    assert oncology.question_en in content
    assert 'data-testid="self-screening-submit"' in content
    assert "Record the screening" not in content
    assert "checked" not in content  # nothing answered beforehand


def test_self_screening_never_asks_the_day_of_questions(client, appointment):
    content = client.get(
        reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    ).content.decode()
    for code in ("fever", "intoxication", "menstruation", "acute-back-pain"):
        assert Contraindication.objects.get(code=code).question_en not in content
        assert f'name="q_{code}"' not in content


def test_self_screening_speaks_to_the_client(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    response = client.post(url, answers(uuid.uuid4(), yes=("product-allergy", "pregnancy"), allergens=""))
    content = response.content.decode()
    assert "Name the oil, cream or aroma you are allergic to." in content
    assert "Leave it empty if you do not know." in content
    assert "the client" not in content
    assert "when she" not in content


def test_self_screening_page_asks_in_ukrainian_for_a_ukrainian_client(client):
    person = ClientFactory(language="uk")
    oncology = Contraindication.objects.get(code="oncology")
    response = client.get(reverse("sessions:link-screening", args=[links.screening_token(person)]))
    assert oncology.question_uk in response.content.decode()


def test_self_screening_post_twice_records_once_and_thanks(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    data = answers(uuid.uuid4(), yes=("high-blood-pressure",))
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302 and second.status_code == 200
    assert first["Location"].endswith("/thanks/")
    assert 'data-testid="self-screening-already"' in second.content.decode()
    screenings = list(Screening.objects.filter(client=appointment.client))
    assert len(screenings) == 1
    assert screenings[0].source == Screening.Source.SELF_REPORTED
    assert [f.contraindication.code for f in screenings[0].findings.all()] == ["high-blood-pressure"]
    thanks = client.get(first["Location"])
    assert 'data-testid="self-screening-thanks"' in thanks.content.decode()


def test_self_screening_link_is_used_once_other_answers_later_record_nothing(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    client.post(url, answers(uuid.uuid4()))

    again = client.post(url, answers(uuid.uuid4(), yes=("oncology",)))
    page = client.get(url)

    assert again.status_code == 200
    assert "Your answers were already received, thank you." in again.content.decode()
    assert 'data-testid="self-screening-form"' not in page.content.decode()
    assert Screening.objects.filter(client=appointment.client).count() == 1
    assert not Screening.objects.filter(findings__contraindication__code="oncology").exists()


def test_self_screening_a_new_link_may_be_answered_again(client, appointment):
    first = links.screening_token(appointment.client)
    client.post(reverse("sessions:link-screening", args=[first]), answers(uuid.uuid4()))
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        second = links.screening_token(appointment.client)
        response = client.post(reverse("sessions:link-screening", args=[second]), answers(uuid.uuid4()))

    assert response.status_code == 302
    assert Screening.objects.filter(client=appointment.client).count() == 2


def test_self_screening_bad_input_keeps_answers_and_saves_nothing(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    response = client.post(url, answers(uuid.uuid4(), yes=("product-allergy",), allergens=""))
    assert response.status_code == 200
    assert Screening.objects.count() == 0
    assert "Name the oil, cream or aroma" in response.content.decode()


def test_self_screening_expired_link_gives_410(client, appointment):
    url = reverse("sessions:link-screening", args=[links.screening_token(appointment.client)])
    with time_machine.travel(NOW + datetime.timedelta(days=15), tick=False):
        response = client.post(url, answers(uuid.uuid4()))
    assert response.status_code == 410
    assert Screening.objects.count() == 0


def test_self_screening_tampered_link_gives_400(client, appointment):
    token = links.screening_token(appointment.client)
    response = client.get(reverse("sessions:link-screening", args=[token + "x"]))
    assert response.status_code == 400
    assert 'data-reason="invalid"' in response.content.decode()


def test_self_screening_link_of_one_client_is_not_an_appointment_link(client, appointment):
    token = links.screening_token(appointment.client)
    response = client.post(reverse("sessions:link-confirm", args=[token]))
    assert response.status_code == 400
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED
