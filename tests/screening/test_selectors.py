import datetime

import pytest

from parlor.models import MassageType
from screening import selectors
from screening.rules import Status
from tests.factories import ClientFactory
from tests.screening.conftest import make_clearance

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))
DAY = datetime.date(2026, 11, 23)


def at(day, hour=10, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=KYIV)


@pytest.fixture
def therapeutic():
    return MassageType.objects.get(code="therapeutic-back")


def test_verdict_for_judges_the_latest_screening(record, client_record):
    record(client_record, "oncology", taken_at=at(DAY - datetime.timedelta(days=20)))
    record(client_record, "high-blood-pressure", taken_at=at(DAY - datetime.timedelta(days=2)))
    verdict = selectors.verdict_for(client=client_record, massage_type=None, day=DAY)
    assert verdict.status == Status.ADAPTED
    assert verdict.direction == "neck-down"
    assert verdict.screening_taken_on == DAY - datetime.timedelta(days=2)


def test_verdict_for_ignores_screenings_taken_after_the_day(record, client_record):
    record(client_record, taken_at=at(DAY - datetime.timedelta(days=2)))
    record(client_record, "oncology", taken_at=at(DAY + datetime.timedelta(days=1)))
    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.ALLOWED


def test_verdict_for_without_screening_needs_one(client_record):
    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.NEEDS_SCREENING


def test_day_of_answers_count_by_the_kyiv_date(record, client_record):
    # 00:30 in Kyiv on the 23rd is still the 22nd in UTC.
    record(client_record, "fever", taken_at=at(DAY, 0, 30))
    verdict = selectors.verdict_for(client=client_record, massage_type=None, day=DAY)
    assert verdict.status == Status.BLOCKED
    next_day = selectors.verdict_for(client=client_record, massage_type=None, day=DAY + datetime.timedelta(days=1))
    assert next_day.status == Status.ALLOWED


@pytest.mark.parametrize(
    ("valid_until", "status"), [(DAY, Status.ALLOWED), (DAY - datetime.timedelta(days=1), Status.NEEDS_CLEARANCE)]
)
def test_verdict_for_reads_the_referral_from_the_database(record, client_record, therapeutic, valid_until, status):
    record(client_record, taken_at=at(DAY))
    make_clearance(
        client_record,
        kind="referral",
        issued_on=DAY - datetime.timedelta(days=30),
        valid_until=valid_until,
        covers_massage_type=therapeutic,
    )
    assert selectors.verdict_for(client=client_record, massage_type=therapeutic, day=DAY).status == status


def test_verdict_for_reads_client_allergens_and_guardian_consent(record):
    child = ClientFactory(birth_date=datetime.date(2015, 3, 1), allergens=["rose"], guardian_consent_at=None)
    record(child, taken_at=at(DAY))
    verdict = selectors.verdict_for(client=child, massage_type=None, day=DAY)
    assert verdict.status == Status.NEEDS_CLEARANCE
    assert [m.code for m in verdict.missing_clearances] == ["guardian-consent"]
    assert verdict.allergens == ("rose",)


def test_verdict_for_uses_the_staleness_setting(record, client_record, settings):
    record(client_record, taken_at=at(DAY - datetime.timedelta(days=31)))
    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.ALLOWED
    settings.SCREENING_VALID_DAYS = 30
    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.NEEDS_SCREENING


def test_verdict_for_takes_three_queries(record, client_record, therapeutic, django_assert_num_queries):
    for days in (40, 20, 1):
        record(client_record, "kidney-disease", "heart-disease", taken_at=at(DAY - datetime.timedelta(days=days)))
    make_clearance(client_record, kind="referral", issued_on=DAY, valid_until=DAY, covers_massage_type=therapeutic)
    with django_assert_num_queries(3):
        selectors.verdict_for(client=client_record, massage_type=therapeutic, day=DAY)


def test_verdicts_for_many_agrees_with_verdict_for(record, therapeutic):
    clients = [ClientFactory() for _ in range(4)]
    record(clients[0], "oncology", taken_at=at(DAY - datetime.timedelta(days=3)))
    record(clients[0], taken_at=at(DAY - datetime.timedelta(days=1)))
    record(clients[1], "skin-disease", taken_at=at(DAY))
    record(clients[2], taken_at=at(DAY - datetime.timedelta(days=200)))
    make_clearance(
        clients[1],
        covers_contraindication=None,
        kind="referral",
        covers_massage_type=therapeutic,
        issued_on=DAY,
        valid_until=DAY,
    )
    many = selectors.verdicts_for_many(clients, therapeutic, DAY)
    assert many == {c.pk: selectors.verdict_for(client=c, massage_type=therapeutic, day=DAY) for c in clients}
    assert [many[c.pk].status for c in clients] == [
        Status.NEEDS_CLEARANCE,
        Status.NEEDS_CLEARANCE,
        Status.NEEDS_SCREENING,
        Status.NEEDS_SCREENING,
    ]


@pytest.mark.parametrize("count", [2, 25])
def test_verdicts_for_many_takes_three_queries_whatever_the_count(record, count, django_assert_num_queries):
    clients = [ClientFactory() for _ in range(count)]
    for c in clients:
        record(c, "kidney-disease", taken_at=at(DAY - datetime.timedelta(days=5)))
        record(c, "heart-disease", taken_at=at(DAY - datetime.timedelta(days=1)))
        make_clearance(c, covers_contraindication=None, covers_massage_type=MassageType.objects.get(code="lumbar"))
    with django_assert_num_queries(3):
        verdicts = selectors.verdicts_for_many(clients, None, DAY)
    assert {v.adaptations[0].code for v in verdicts.values()} == {"heart-disease"}


def test_verdicts_for_many_of_nobody_is_empty(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.verdicts_for_many([], None, DAY) == {}


def test_screening_before_is_the_previous_one_of_the_same_client(record, client_record):
    first = record(client_record, taken_at=at(DAY - datetime.timedelta(days=10)))
    record(ClientFactory(), taken_at=at(DAY - datetime.timedelta(days=5)))
    second = record(client_record, taken_at=at(DAY))
    assert selectors.screening_before(screening=second) == first
    assert selectors.screening_before(screening=first) is None


def test_questionnaire_leaves_out_local_areas_and_inactive_entries(catalogue):
    catalogue["liver-disease"].is_active = False
    catalogue["liver-disease"].save()
    codes = [c.code for c in selectors.questionnaire()]
    assert "liver-disease" not in codes
    assert "spine" not in codes
    assert len(codes) == 23
    assert codes[0] == "fracture"


# --- A self-report never removes what staff recorded --------------------------------------------


def test_verdict_for_a_self_report_saying_no_keeps_the_staff_finding_and_allergens(record, client_record):
    record(
        client_record,
        "oncology",
        "product-allergy",
        taken_at=at(DAY - datetime.timedelta(days=20)),
        details={"product-allergy": {"allergens": ["rose"]}},
    )
    record(client_record, taken_at=at(DAY - datetime.timedelta(days=1)), source="self_reported")

    verdict = selectors.verdict_for(client=client_record, massage_type=None, day=DAY)

    assert verdict.status == Status.BLOCKED
    assert [b.code for b in verdict.blockers] == ["oncology"]
    assert verdict.allergens == ("rose",)
    assert verdict.screening_taken_on == DAY - datetime.timedelta(days=1)


def test_verdict_for_a_self_report_adds_a_finding_at_once(record, client_record):
    record(client_record, taken_at=at(DAY - datetime.timedelta(days=20)))
    record(client_record, "skin-disease", taken_at=at(DAY - datetime.timedelta(days=1)), source="self_reported")

    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.NEEDS_CLEARANCE


def test_verdict_for_a_staff_screening_without_the_finding_removes_it(record, client_record):
    record(client_record, "oncology", taken_at=at(DAY - datetime.timedelta(days=20)))
    record(client_record, "oncology", taken_at=at(DAY - datetime.timedelta(days=10)), source="self_reported")
    record(client_record, taken_at=at(DAY - datetime.timedelta(days=2)))

    assert selectors.verdict_for(client=client_record, massage_type=None, day=DAY).status == Status.ALLOWED


def test_verdicts_for_many_judges_self_reports_as_verdict_for(record):
    staff_only, with_report = ClientFactory(), ClientFactory()
    for person in (staff_only, with_report):
        record(person, "oncology", taken_at=at(DAY - datetime.timedelta(days=20)))
    record(with_report, "high-blood-pressure", taken_at=at(DAY - datetime.timedelta(days=1)), source="self_reported")

    many = selectors.verdicts_for_many([staff_only, with_report], None, DAY)

    for person in (staff_only, with_report):
        assert many[person.pk] == selectors.verdict_for(client=person, massage_type=None, day=DAY)
    assert [b.code for b in many[with_report.pk].blockers] == ["oncology"]
    assert [a.code for a in many[with_report.pk].adaptations] == ["high-blood-pressure"]
