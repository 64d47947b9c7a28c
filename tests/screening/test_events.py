import datetime

import pytest

from screening import events, services
from screening.models import Clearance

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(monkeypatch):
    """Subscribe a recorder to both events, on fresh registries so the sessions subscriber stays out."""
    monkeypatch.setattr(events, "_screening_recorded", [])
    monkeypatch.setattr(events, "_clearance_changed", [])
    calls = []
    events.on_screening_recorded(lambda pk: calls.append(("screening", pk)))
    events.on_clearance_changed(lambda pk: calls.append(("clearance", pk)))
    return calls


def test_screening_recorded_runs_the_callbacks_on_commit_only(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.screening_recorded(7)

    assert heard == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert heard == [("screening", 7)]


def test_clearance_changed_runs_the_callbacks_with_the_id(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.clearance_changed(3)

    assert heard == [("clearance", 3)]


def test_on_screening_recorded_subscribes_a_callback_once(monkeypatch):
    monkeypatch.setattr(events, "_screening_recorded", [])

    def callback(pk):
        return pk

    events.on_screening_recorded(callback)
    events.on_screening_recorded(callback)

    assert events.subscribers()["screening_recorded"] == [callback]


def test_a_failing_callback_is_logged_and_the_others_still_run(monkeypatch, django_capture_on_commit_callbacks, caplog):
    monkeypatch.setattr(events, "_screening_recorded", [])
    calls = []

    def broken(pk):
        raise RuntimeError("listener broke")

    events.on_screening_recorded(broken)
    events.on_screening_recorded(calls.append)

    with django_capture_on_commit_callbacks(execute=True):
        events.screening_recorded(5)

    assert calls == [5]
    assert "listener broke" in caplog.text


def test_screening_record_announces_the_new_screening(heard, record, client_record, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        screening = record(client_record, "oncology")

    assert heard == [("screening", screening.pk)]


def test_screening_record_a_self_reported_screening_is_announced_too(
    heard, catalogue, client_record, django_capture_on_commit_callbacks
):
    import uuid

    from screening.models import Screening

    with django_capture_on_commit_callbacks(execute=True):
        screening = services.screening_record(
            client=client_record,
            answers={},
            findings=[services.FindingInput(contraindication=catalogue["fever"])],
            taken_by=None,
            source=Screening.Source.SELF_REPORTED,
            submission_key=uuid.uuid4(),
        )

    assert heard == [("screening", screening.pk)]


def test_screening_record_the_same_submission_again_is_not_announced_again(
    heard, catalogue, client_record, django_capture_on_commit_callbacks
):
    import uuid

    key = uuid.uuid4()
    values = {"client": client_record, "answers": {}, "findings": [], "taken_by": None, "submission_key": key}
    with django_capture_on_commit_callbacks(execute=True):
        first = services.screening_record(**values)
        again = services.screening_record(**values)

    assert again.pk == first.pk
    assert heard == [("screening", first.pk)]


def test_screening_record_invalid_findings_announce_nothing(
    heard, catalogue, client_record, django_capture_on_commit_callbacks
):
    import uuid

    from django.core.exceptions import ValidationError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.screening_record(
            client=client_record,
            answers={},
            findings=[services.FindingInput(contraindication=catalogue["fever"])] * 2,
            taken_by=None,
            submission_key=uuid.uuid4(),
        )

    assert heard == []


def test_clearance_add_announces_the_clearance(heard, client_record, catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        clearance = services.clearance_add(
            client=client_record,
            kind=Clearance.Kind.PERMISSION,
            doctor_name="Д-р Савченко",
            issued_on=datetime.date(2026, 11, 1),
            valid_until=datetime.date(2026, 12, 31),
            covers_contraindication=catalogue["kidney-disease"],
            created_by=None,
        )

    assert heard == [("clearance", clearance.pk)]


def test_clearance_add_refused_announces_nothing(heard, client_record, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.clearance_add(
            client=client_record,
            kind=Clearance.Kind.PERMISSION,
            doctor_name="Д-р Савченко",
            issued_on=datetime.date(2026, 11, 1),
            valid_until=datetime.date(2026, 12, 31),
            created_by=None,
        )

    assert heard == []


def test_sessions_subscribes_to_both_events():
    from sessions.flags import subscriptions

    assert subscriptions.screening_recorded in events.subscribers()["screening_recorded"]
    assert subscriptions.clearance_changed in events.subscribers()["clearance_changed"]
