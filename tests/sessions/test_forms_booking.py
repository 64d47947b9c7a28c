import datetime
import uuid

import pytest
from django.http import QueryDict

from parlor.models import Masseur
from sessions.booking.forms import AppointmentBookForm, CourseExtendForm, CourseForm, SessionFormSet
from sessions.models import Course
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory
from tests.sessions.conftest import MONDAY

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture
def lists(db, frozen_now):
    kind = MassageTypeFactory()
    qualified = MasseurFactory(display_name="Олена", qualifications=[kind])
    MasseurFactory(display_name="Петро")
    masseurs = list(Masseur.objects.prefetch_related("qualifications").order_by("display_name"))
    return {
        "massage_types": [kind],
        "masseurs": masseurs,
        "rooms": [RoomFactory(name="Room A")],
        "qualified": qualified,
    }


def course_form(lists, **overrides):
    data = {
        "client": ClientFactory().pk,
        "massage_type": lists["massage_types"][0].pk,
        "indication": Course.Indication.BACK_PAIN,
        "planned_sessions": "10",
        "cadence": Course.Cadence.DAILY,
        "start_date": MONDAY.isoformat(),
        "request_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return CourseForm(
        data, candidates=[], massage_types=lists["massage_types"], masseurs=lists["masseurs"], may_override=False
    )


def test_course_form_valid_gives_objects(lists):
    form = course_form(lists, preferred_masseur=lists["qualified"].pk, weekdays=["0"])
    assert form.is_valid(), form.errors
    assert form.cleaned_data["massage_type"] == lists["massage_types"][0]
    assert form.cleaned_data["preferred_masseur"] == lists["qualified"]
    assert form.cleaned_data["weekdays"] == [0]
    assert "override_reason" not in form.fields


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"planned_sessions": "0"}, {"planned_sessions": ["A course has from 1 to 30 sessions."]}),
        ({"planned_sessions": "500"}, {"planned_sessions": ["A course has from 1 to 30 sessions."]}),
        ({"start_date": "2027-01-31"}, {"start_date": ["The course cannot start in the past."]}),
        ({"cadence": Course.Cadence.WEEKDAYS}, {"weekdays": ["Choose at least one weekday."]}),
        ({"client": "999999"}, {"client": ["There is no client with this number."]}),
        ({"client": "x"}, {"client": ["There is no client with this number."]}),
        (
            {"massage_type": "999999"},
            {"massage_type": ["Select a valid choice. 999999 is not one of the available choices."]},
        ),
    ],
)
def test_course_form_bad_input_is_said_beside_the_field(lists, overrides, errors):
    form = course_form(lists, **overrides)
    assert not form.is_valid()
    assert form.errors == errors


def test_course_form_unqualified_preferred_masseur_is_refused(lists):
    petro = next(m for m in lists["masseurs"] if m.display_name == "Петро")
    form = course_form(lists, preferred_masseur=petro.pk)
    assert form.errors == {"preferred_masseur": [f"Петро is not qualified for {lists['massage_types'][0]}."]}


def test_course_form_offers_only_qualified_masseurs_once_the_type_is_known(lists):
    form = CourseForm(
        initial={"massage_type": lists["massage_types"][0].pk},
        massage_types=lists["massage_types"],
        masseurs=lists["masseurs"],
    )
    assert [label for _value, label in form.fields["preferred_masseur"].choices] == ["---------", "Олена"]
    unknown = CourseForm(massage_types=lists["massage_types"], masseurs=lists["masseurs"])
    assert [label for _v, label in unknown.fields["preferred_masseur"].choices] == ["---------", "Олена", "Петро"]


def test_course_form_for_a_manager_has_the_override_field(lists):
    form = CourseForm(massage_types=lists["massage_types"], masseurs=lists["masseurs"], may_override=True)
    assert "override_reason" in form.fields


def test_course_form_keeps_the_chosen_client_in_the_list_when_not_among_the_results(lists):
    client = ClientFactory(full_name="Окрема Клієнтка")
    form = CourseForm(initial={"client": client.pk}, candidates=[], massage_types=[], masseurs=[])
    assert [value for value, _label in form.fields["client"].widget.choices] == ["", str(client.pk)]


def test_session_formset_reads_local_times_and_objects(lists):
    data = {
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "0",
        "s-0-starts_at": "2027-03-01T10:00",
        "s-0-masseur": str(lists["qualified"].pk),
        "s-0-room": str(lists["rooms"][0].pk),
    }
    formset = SessionFormSet(data, prefix="s", form_kwargs={"masseurs": lists["masseurs"], "rooms": lists["rooms"]})
    assert formset.is_valid(), formset.errors
    row = formset.forms[0].cleaned_data
    assert row["starts_at"] == datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert (row["masseur"], row["room"]) == (lists["qualified"], lists["rooms"][0])


def test_session_formset_a_bad_row_keeps_what_was_typed(lists):
    data = {
        "s-TOTAL_FORMS": "1",
        "s-INITIAL_FORMS": "0",
        "s-0-starts_at": "someday",
        "s-0-masseur": "",
        "s-0-room": "999999",
    }
    formset = SessionFormSet(data, prefix="s", form_kwargs={"masseurs": lists["masseurs"], "rooms": lists["rooms"]})
    assert not formset.is_valid()
    assert set(formset.forms[0].errors) == {"starts_at", "masseur", "room"}
    assert formset.forms[0]["starts_at"].value() == "someday"
    assert "is-invalid" in formset.forms[0].fields["starts_at"].widget.attrs["class"]


def _params(lists, **values):
    query = QueryDict(mutable=True)
    query.update(values)
    return AppointmentBookForm.initial_from_params(
        query, massage_types=lists["massage_types"], masseurs=lists["masseurs"], rooms=lists["rooms"]
    )


def test_slot_params_read_an_offset_and_keep_the_instant(lists):
    initial, errors = _params(lists, starts_at="2027-03-01T10:00:00+02:00", masseur=str(lists["qualified"].pk))
    assert errors == {}
    assert initial["starts_at"] == datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert initial["masseur"] == lists["qualified"].pk


def test_slot_params_read_a_utc_instant(lists):
    initial, errors = _params(lists, starts_at="2027-03-01T08:00:00Z")
    assert initial["starts_at"] == datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def test_slot_params_without_an_offset_are_kyiv_time(lists):
    initial, _errors = _params(lists, starts_at="2027-07-01T10:00")
    assert initial["starts_at"] == datetime.datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["garbage", "2027-13-01T10:00", "2027-03-01T25:00+02:00", "1"])
def test_slot_params_garbage_start_is_said_not_raised(lists, value):
    initial, errors = _params(lists, starts_at=value)
    assert "starts_at" not in initial
    assert errors == {"starts_at": "The start in the link is not a date and time; choose it here."}


def test_book_form_shows_link_errors_beside_fields_without_being_submitted(lists):
    form = AppointmentBookForm(massage_types=lists["massage_types"], masseurs=lists["masseurs"], rooms=lists["rooms"])
    form.show_param_errors({"room": "There is no such room."})
    assert not form.is_bound
    assert form["room"].errors == ["There is no such room."]


def test_extend_form_caps_the_course_at_thirty(lists):
    form = CourseExtendForm({"count": "5"}, room_left=3)
    assert form.errors == {"count": ["Sessions that can still be added: 3 (a course has at most 30)."]}
    assert CourseExtendForm({"count": "3"}, room_left=3).is_valid()
