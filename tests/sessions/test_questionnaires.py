"""The masseur's side of the questionnaires: the check-in asks, nothing answered beforehand and only what
can apply; the notes beside findings reach the review and the session log; each adaptation shows once."""

import datetime
import uuid

import pytest
import time_machine
from django.urls import reverse

from screening import services as screening_services
from screening.models import Contraindication, QuestionnaireSettings
from sessions.care.forms import DayOfCheckForm
from sessions.care.logs import areas_named_in
from sessions.models import Appointment, DayOfCheck
from tests.sessions.test_masseur_support import NOW, at, logged_in, make_day

pytestmark = pytest.mark.django_db

ALL_NO = {"fever": "no", "intoxication": "no", "menstruation": "no", "acute_pain": "no"}


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _checkin_url(day):
    return reverse("sessions:appointment-checkin", args=[day.appointment.pk])


# --- the check-in ---------------------------------------------------------------------------------


def test_checkin_form_starts_with_every_question_unanswered():
    day = make_day(second_finding=None)

    page = logged_in(day.user).get(_checkin_url(day)).content.decode()

    assert 'name="fever"' in page
    assert "checked" not in page


def test_checkin_with_a_question_unanswered_refuses_to_start():
    day = make_day(second_finding=None)
    data = dict(ALL_NO)
    del data["acute_pain"]

    response = logged_in(day.user).post(_checkin_url(day), data)

    assert response.status_code == 200
    assert response.context["form"].errors == {"acute_pain": ["Answer yes or no."]}
    assert Appointment.objects.get(pk=day.appointment.pk).status == "booked"
    assert not DayOfCheck.objects.exists()


def test_checkin_menstruation_not_applicable_is_a_real_answer():
    day = make_day(second_finding=None)

    response = logged_in(day.user).post(_checkin_url(day), ALL_NO | {"menstruation": "n/a"})

    assert response.status_code == 302
    assert DayOfCheck.objects.get().answers["menstruation"] is None


@pytest.mark.parametrize(
    ("sex", "birth_date", "asked"),
    [
        ("female", datetime.date(1985, 5, 17), True),
        ("male", datetime.date(1985, 5, 17), False),
        ("female", datetime.date(1960, 5, 17), False),  # 66: past the default 55
    ],
)
def test_checkin_asks_about_menstruation_only_women_below_the_age_limit(sex, birth_date, asked):
    day = make_day(second_finding=None)
    day.client.sex, day.client.birth_date = sex, birth_date
    day.client.save()

    page = logged_in(day.user).get(_checkin_url(day)).content.decode()

    assert ('name="menstruation"' in page) is asked


def test_checkin_menstruation_age_limit_follows_the_managers_setting():
    day = make_day(second_finding=None)
    day.client.birth_date = datetime.date(1960, 5, 17)
    day.client.save()
    QuestionnaireSettings.objects.update_or_create(pk=1, defaults={"female_questions_until_age": 70})

    assert 'name="menstruation"' in logged_in(day.user).get(_checkin_url(day)).content.decode()


def test_day_of_check_form_without_answers_is_invalid():
    form = DayOfCheckForm({})
    assert not form.is_valid()
    assert set(form.errors) == {"fever", "intoxication", "menstruation", "acute_pain"}


# --- notes beside findings ------------------------------------------------------------------------


def _with_a_noted_finding(note="lower back, left, 3 cm"):
    day = make_day(second_finding=None)
    skin = Contraindication.objects.get(code="skin-disease")
    screening_services.screening_record(
        client=day.client,
        answers={},
        findings=[screening_services.FindingInput(contraindication=skin, note=note)],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=at(-1, 9),
    )
    screening_services.clearance_add(
        client=day.client,
        kind="permission",
        doctor_name="Д-р Савченко",
        issued_on=NOW.date() - datetime.timedelta(days=1),
        valid_until=NOW.date() + datetime.timedelta(days=30),
        covers_contraindication=skin,
        created_by=None,
    )
    return day


@pytest.mark.parametrize(
    ("note", "areas"),
    [
        ("lower back, left, 3 cm", ["lower-back"]),
        ("під лівою лопаткою", ["upper-back"]),
        ("шия і плечі", ["neck", "shoulders"]),
        ("on the left shoulder blade", ["upper-back"]),
        ("everywhere", []),
    ],
)
def test_areas_named_in_a_note(note, areas):
    assert areas_named_in(note) == areas


def test_the_review_shows_the_note_beside_the_finding():
    day = _with_a_noted_finding()

    page = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk])).content.decode()

    assert "Skin disease: lower back, left, 3 cm" in page


def test_the_session_log_shows_the_note_and_pre_marks_the_area_it_names_as_avoided():
    day = _with_a_noted_finding()
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)

    response = logged_in(day.user).get(reverse("sessions:sessionlog-edit", args=[day.appointment.pk]))

    assert "Skin disease: lower back, left, 3 cm" in response.content.decode()
    assert "lower-back" in response.context["form"].initial["areas_avoided"]
    assert "spine" in response.context["form"].initial["areas_avoided"]


# --- each adaptation once -------------------------------------------------------------------------


def test_the_review_lists_each_adaptation_once():
    day = make_day(second_finding="high-blood-pressure")

    page = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk])).content.decode()

    assert page.count("High blood pressure: work from the neck down, not bottom-up.") == 1
    assert page.count("Allergen rose is not to be used.") == 1


# --- the manager's questionnaire settings ---------------------------------------------------------


def test_questionnaire_settings_manager_saves_the_age_limit(manager_client):
    url = reverse("screening:questionnaire-settings")
    assert manager_client.get(url).status_code == 200

    response = manager_client.post(url, {"female_questions_until_age": "60"})

    assert response.status_code == 302
    assert QuestionnaireSettings.current().female_questions_until_age == 60


def test_questionnaire_settings_a_bad_age_is_said_beside_the_field(manager_client):
    response = manager_client.post(reverse("screening:questionnaire-settings"), {"female_questions_until_age": "5"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "female_questions_until_age": ["Ensure this value is greater than or equal to 30."]
    }
    assert QuestionnaireSettings.current().female_questions_until_age == 55


@pytest.mark.parametrize("who", ["reception_client", "masseur_client"])
def test_questionnaire_settings_only_for_the_manager(request, who):
    assert request.getfixturevalue(who).get(reverse("screening:questionnaire-settings")).status_code == 403
