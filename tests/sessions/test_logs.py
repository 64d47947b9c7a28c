import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from sessions.care.logs import LogInput, allergen_in, log_problems, sessionlog_add_addendum, sessionlog_save
from sessions.models import Appointment, Course, SessionLog, SessionLogAddendum
from tests.sessions.test_masseur_support import NOW, make_day, past_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def day():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)
    day.appointment.refresh_from_db()
    return day


def good(**overrides) -> LogInput:
    values = {
        "techniques": ["stroking", "rubbing", "kneading", "percussion-vibration", "stroking"],
        "areas_worked": ["neck", "shoulders", "upper-back"],
        "areas_avoided": ["spine", "kidney-area"],
        "pain_before": 6,
        "pain_after": 3,
        "products": ["Almond oil"],
        "duration_minutes": 40,
        "subjective": "Болить поперек.",
    }
    return LogInput(**(values | overrides))


def _errors(exc) -> dict:
    return exc.value.message_dict


# --- the rules ----------------------------------------------------------------------------------


def test_allergen_in_matches_case_insensitively_inside_a_product_name():
    assert allergen_in("Rose oil", ("rose",)) == "rose"
    assert allergen_in("almond oil", ("rose",)) is None


def test_log_problems_good_log_has_none(day):
    from sessions.care.logs import verdict_for_appointment

    assert log_problems(good(), verdict=verdict_for_appointment(day.appointment), signing=True) == {}


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pain", [-1, 11])
def test_sessionlog_save_pain_outside_0_10_is_refused(day, pain):
    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(pain_before=pain), by=day.user, log_id=None)

    assert _errors(exc) == {"pain_before": ["Pain is a number from 0 to 10."]}
    assert not SessionLog.objects.exists()


@pytest.mark.parametrize("minutes", [0, 600])
def test_sessionlog_save_duration_0_or_10_hours_is_refused(day, minutes):
    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(duration_minutes=minutes), by=day.user, log_id=None)

    assert _errors(exc) == {"duration_minutes": ["A session lasts from 1 to 180 minutes."]}


def test_sessionlog_save_for_a_cancelled_appointment_is_refused(day):
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CANCELLED)

    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None)

    assert _errors(exc) == {NON_FIELD_ERRORS: ["The appointment is cancelled: no session log can be written for it."]}
    assert not SessionLog.objects.exists()


def test_sessionlog_save_before_check_in_is_refused(day):
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.BOOKED)

    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None)

    assert _errors(exc)[NON_FIELD_ERRORS] == ["The appointment is booked: check the client in before writing the log."]


def test_sessionlog_save_a_second_log_for_the_same_appointment_is_refused(day):
    first = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None)

    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(pain_before=9), by=day.user, log_id=None)

    assert _errors(exc)[NON_FIELD_ERRORS][0].startswith("A session log for this appointment already exists")
    first.refresh_from_db()
    assert first.pain_before == 6


def test_sessionlog_save_editing_a_signed_log_is_refused(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)

    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(pain_after=0), by=day.user, log_id=log.pk)

    assert _errors(exc) == {
        NON_FIELD_ERRORS: ["This session log is signed and cannot be changed; add an addendum instead."]
    }
    log.refresh_from_db()
    assert log.pain_after == 3


def test_sessionlog_save_an_allergen_among_products_is_refused(day):
    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(products=["ROSE oil"]), by=day.user, log_id=None)

    assert _errors(exc) == {"products": ["ROSE oil: the client is allergic to rose."]}


def test_sessionlog_save_an_area_to_avoid_marked_worked_is_refused(day):
    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(areas_worked=["spine"]), by=day.user, log_id=None)

    assert _errors(exc)["areas_worked"] == ["Never worked on this client: the spine itself."]


def test_sessionlog_save_signing_without_pain_is_refused(day):
    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(pain_after=None), by=day.user, log_id=None, sign=True)

    assert _errors(exc) == {"pain_after": ["Ask the client about pain (0-10) before signing."]}


def test_sessionlog_save_bottom_up_for_high_blood_pressure_is_refused():
    day = make_day(second_finding="high-blood-pressure")
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)

    with pytest.raises(ValidationError) as exc:
        sessionlog_save(appointment=day.appointment, data=good(direction="bottom-up"), by=day.user, log_id=None)

    assert _errors(exc) == {"direction": ["High blood pressure: work from the neck down."]}


# --- drafts and signing -------------------------------------------------------------------------


def test_sessionlog_save_draft_then_update_keeps_one_log(day):
    draft = sessionlog_save(appointment=day.appointment, data=good(pain_after=None), by=day.user, log_id=None)
    updated = sessionlog_save(appointment=day.appointment, data=good(pain_after=2), by=day.user, log_id=draft.pk)

    assert updated.pk == draft.pk
    assert updated.status == SessionLog.Status.DRAFT
    assert SessionLog.objects.get().pain_after == 2
    assert Appointment.objects.get(pk=day.appointment.pk).status == Appointment.Status.CHECKED_IN


def test_sessionlog_save_sign_completes_the_appointment_and_activates_the_course(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)

    assert (log.status, log.signed_by, log.signed_at) == (SessionLog.Status.SIGNED, day.user, NOW)
    assert Appointment.objects.get(pk=day.appointment.pk).status == Appointment.Status.COMPLETED
    assert Course.objects.get(pk=day.course.pk).status == Course.Status.ACTIVE


def test_sessionlog_save_sign_of_the_last_session_completes_the_course():
    day = make_day(second_finding=None, planned=2)
    past_appointment(day, days_ago=1, status=Appointment.Status.COMPLETED)
    Appointment.objects.filter(pk=day.appointment.pk).update(status=Appointment.Status.CHECKED_IN)

    sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)

    assert Course.objects.get(pk=day.course.pk).status == Course.Status.COMPLETED


def test_signed_log_save_is_refused_in_python(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)
    log = SessionLog.objects.get(pk=log.pk)
    log.pain_after = 0

    with pytest.raises(ValidationError, match="A signed session log cannot be changed"):
        log.save()


def test_signed_log_update_is_refused_by_the_database(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)

    with pytest.raises(IntegrityError, match="is signed and cannot be changed"), transaction.atomic():
        SessionLog.objects.filter(pk=log.pk).update(pain_after=0)
    # Even "unsigning" it is an update of a signed row.
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionLog.objects.filter(pk=log.pk).update(status=SessionLog.Status.DRAFT)

    assert SessionLog.objects.get(pk=log.pk).pain_after == 3


def test_sessionlog_add_addendum_records_author_and_time(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None, sign=True)

    addendum = sessionlog_add_addendum(log=log, text="  Забула: мигдалева олія.  ", by=day.user)

    assert (addendum.author, addendum.created_at, addendum.text) == (day.user, NOW, "Забула: мигдалева олія.")
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionLogAddendum.objects.filter(pk=addendum.pk).update(text="changed")


def test_sessionlog_add_addendum_to_a_draft_is_refused(day):
    log = sessionlog_save(appointment=day.appointment, data=good(), by=day.user, log_id=None)

    with pytest.raises(ValidationError) as exc:
        sessionlog_add_addendum(log=log, text="x", by=day.user)

    assert _errors(exc) == {"text": ["The log is still a draft: change it directly."]}


def _perms(group_name, models=("flag", "dayofcheck", "sessionlog", "sessionlogaddendum")):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=group_name)
    return {
        p.codename
        for p in group.permissions.filter(content_type__app_label="treatments", content_type__model__in=models)
    }


def test_roles_get_their_masseur_side_permissions_from_the_data_migration():
    assert _perms("Masseur") == {
        "add_sessionlog",
        "change_sessionlog",
        "view_sessionlog",
        "add_sessionlogaddendum",
        "view_sessionlogaddendum",
        "view_flag",
        "change_flag",
        "add_dayofcheck",
        "view_dayofcheck",
    }
    assert _perms("Manager") == {
        f"{action}_{model}"
        for model in ("flag", "dayofcheck", "sessionlog", "sessionlogaddendum")
        for action in ("add", "change", "delete", "view")
    } | {"review_any"}
    assert _perms("Receptionist") == set()


def test_masseur_side_roles_migration_is_idempotent():
    import importlib

    from django.apps import apps

    module = importlib.import_module("sessions.migrations.0005_masseur_side_roles")
    module.grant(apps, None)
    module.grant(apps, None)

    assert len(_perms("Masseur")) == 9
