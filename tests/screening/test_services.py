import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from screening import services
from screening.models import Clearance, Finding, Screening
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _record(client, catalogue, key, *codes, details=None):
    return services.screening_record(
        client=client,
        answers={"questions": {}},
        findings=[services.FindingInput(contraindication=catalogue[c], details=(details or {})) for c in codes],
        taken_by=None,
        submission_key=key,
    )


def test_screening_record_stores_findings_with_details(client_record, catalogue):
    user = UserFactory()
    screening = services.screening_record(
        client=client_record,
        answers={"questions": {"pregnancy": {"answer": True}}},
        findings=[
            services.FindingInput(
                contraindication=catalogue["pregnancy"], note="feels well", details={"pregnancy_weeks": 20}
            )
        ],
        taken_by=user,
        source=Screening.Source.SELF_REPORTED,
        submission_key=uuid.uuid4(),
        notes="first visit",
    )
    finding = screening.findings.get()
    assert (finding.contraindication.code, finding.note, finding.details) == (
        "pregnancy",
        "feels well",
        {"pregnancy_weeks": 20},
    )
    assert (screening.taken_by, screening.source, screening.notes) == (user, "self_reported", "first visit")


def test_screening_record_with_the_same_key_returns_the_first(client_record, catalogue):
    key = uuid.uuid4()
    first = _record(client_record, catalogue, key, "kidney-disease")
    again = _record(client_record, catalogue, key, "kidney-disease", "liver-disease")
    assert again.pk == first.pk
    assert Screening.objects.count() == 1
    assert Finding.objects.count() == 1


def test_screening_record_survives_a_concurrent_double_submit(client_record, catalogue, monkeypatch):
    # The other request inserted the key between our look-up and our insert:
    # the unique constraint refuses ours and we return theirs.
    key = uuid.uuid4()
    winner = _record(client_record, catalogue, key, "kidney-disease")
    monkeypatch.setattr(services, "_existing", _once_none(_lookup))
    result = _record(client_record, catalogue, key, "liver-disease")
    assert result.pk == winner.pk
    assert Screening.objects.count() == 1
    assert list(Finding.objects.values_list("contraindication__code", flat=True)) == ["kidney-disease"]


def _lookup(submission_key):
    return Screening.objects.filter(submission_key=submission_key).first()


def _once_none(real):
    calls = {"n": 0}

    def lookup(submission_key):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(submission_key)

    return lookup


def test_screening_record_refuses_a_key_used_for_another_client(client_record, catalogue):
    key = uuid.uuid4()
    _record(client_record, catalogue, key)
    with pytest.raises(ValidationError):
        _record(ClientFactory(), catalogue, key)


@pytest.mark.parametrize("weeks", [0, 43, -1, "20"])
def test_screening_record_refuses_pregnancy_weeks_outside_1_to_42(client_record, catalogue, weeks):
    with pytest.raises(ValidationError) as excinfo:
        _record(client_record, catalogue, uuid.uuid4(), "pregnancy", details={"pregnancy_weeks": weeks})
    assert excinfo.value.message_dict == {"pregnancy_weeks": ["Pregnancy weeks must be between 1 and 42."]}
    assert Screening.objects.count() == 0


@pytest.mark.parametrize("weeks", [1, 42])
def test_screening_record_accepts_pregnancy_weeks_at_the_bounds(client_record, catalogue, weeks):
    screening = _record(client_record, catalogue, uuid.uuid4(), "pregnancy", details={"pregnancy_weeks": weeks})
    assert screening.findings.get().details == {"pregnancy_weeks": weeks}


def test_screening_record_refuses_a_contraindication_twice(client_record, catalogue):
    with pytest.raises(ValidationError):
        _record(client_record, catalogue, uuid.uuid4(), "kidney-disease", "kidney-disease")


def _clearance(client, catalogue, **overrides):
    values = {
        "client": client,
        "kind": Clearance.Kind.PERMISSION,
        "doctor_name": "Д-р Савченко",
        "issued_on": datetime.date(2026, 11, 1),
        "valid_until": datetime.date(2026, 12, 1),
        "covers_contraindication": catalogue["skin-disease"],
        "created_by": None,
    }
    values.update(overrides)
    return services.clearance_add(**values)


@pytest.mark.parametrize(("content", "extension"), [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpg")])
def test_clearance_add_stores_a_scan_under_clearances_by_its_content(
    client_record, catalogue, content, extension, tmp_path
):
    clearance = _clearance(client_record, catalogue, scan=SimpleUploadedFile("Петренко довідка.dat", content))
    assert clearance.scan.name.startswith("clearances/")
    assert clearance.scan.name.endswith(f".{extension}")
    assert "Петренко" not in clearance.scan.name
    assert (tmp_path / clearance.scan.name).read_bytes() == content


def test_clearance_add_refuses_a_renamed_file(client_record, catalogue):
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as excinfo:
        _clearance(client_record, catalogue, scan=fake)
    assert excinfo.value.message_dict == {"scan": ["Only a PDF, JPEG or PNG scan is accepted."]}
    assert Clearance.objects.count() == 0


def test_clearance_add_refuses_a_scan_over_10_mb(client_record, catalogue):
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError) as excinfo:
        _clearance(client_record, catalogue, scan=big)
    assert excinfo.value.message_dict["scan"] == ["The scan is larger than 10.0\xa0MB; send a smaller file."]


def test_clearance_add_accepts_exactly_10_mb(client_record, catalogue):
    exact = SimpleUploadedFile("scan.pdf", PDF + b"0" * (10 * 1024 * 1024 - len(PDF)))
    assert _clearance(client_record, catalogue, scan=exact).scan.size == 10 * 1024 * 1024


def test_clearance_add_refuses_an_end_before_the_issue(client_record, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        _clearance(client_record, catalogue, valid_until=datetime.date(2026, 10, 31))
    assert excinfo.value.message_dict == {"valid_until": ["It cannot end before it was issued."]}


def test_clearance_add_refuses_one_covering_nothing(client_record, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        _clearance(client_record, catalogue, covers_contraindication=None)
    assert excinfo.value.message_dict == {
        "covers_contraindication": ["Say what it covers: a contraindication, a massage type or both."]
    }


def test_clearance_add_refuses_a_missing_doctor(client_record, catalogue):
    with pytest.raises(ValidationError) as excinfo:
        _clearance(client_record, catalogue, doctor_name="  ")
    assert list(excinfo.value.message_dict) == ["doctor_name"]


def test_clearance_add_records_who_added_it(client_record, catalogue):
    user = UserFactory()
    clearance = _clearance(client_record, catalogue, created_by=user)
    assert (clearance.created_by, clearance.scan.name) == (user, "")


def test_clearance_add_refuses_a_clearance_issued_in_the_future(client_record, catalogue):
    import time_machine

    with (
        time_machine.travel(datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC), tick=False),
        pytest.raises(ValidationError) as caught,
    ):
        # 31 October 23:30 UTC is already 1 November in Kyiv: the 1st is today, the 2nd is not.
        _clearance(client_record, catalogue, issued_on=datetime.date(2026, 11, 2))
    assert caught.value.message_dict == {
        "issued_on": ["A clearance cannot be issued in the future: check the date on the paper."]
    }
    with time_machine.travel(datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC), tick=False):
        assert _clearance(client_record, catalogue).issued_on == datetime.date(2026, 11, 1)
