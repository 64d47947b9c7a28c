"""The list pages' lean verdicts (verdicts_for_days: screening columns, findings by screening id, no
answers JSON) against the one-client verdict_for, over varied findings, clearances, self-reports, stale
screenings and several days."""

import datetime

import pytest
from django.utils import translation

from parlor.models import MassageType
from screening import selectors
from screening.rules import Status
from tests.factories import ClientFactory
from tests.screening.conftest import make_clearance

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))
DAY = datetime.date(2026, 11, 23)
WEEK = [DAY + datetime.timedelta(days=n) for n in range(7)]


def at(day, hour=10):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=KYIV)


def ago(days: int, hour=10) -> datetime.datetime:
    return at(DAY - datetime.timedelta(days=days), hour)


@pytest.fixture
def clients(record):
    """Clients whose verdicts differ on the days of WEEK, each for a different reason."""
    people = {name: ClientFactory() for name in ("never", "plain", "adapted", "blocked", "cleared", "reported")}
    people |= {name: ClientFactory() for name in ("stale", "rescreened", "allergic", "pregnant", "noted", "minor")}
    record(people["plain"], taken_at=ago(10))
    record(people["adapted"], "high-blood-pressure", "kidney-disease", "spine", taken_at=ago(5))
    record(people["blocked"], "oncology", taken_at=ago(30))
    # A relative contraindication with a doctor's permission that runs out in the middle of the week.
    record(people["cleared"], "skin-disease", taken_at=ago(3))
    make_clearance(people["cleared"], covers_contraindication=record.catalogue["skin-disease"], valid_until=WEEK[3])
    # A self-report after the staff screening adds to it; an older staff screening no longer counts.
    record(people["reported"], "oncology", taken_at=ago(60))
    record(people["reported"], "heart-disease", taken_at=ago(20))
    record(people["reported"], "fever", taken_at=ago(2), source="self_reported")
    # 89 days old on DAY: stale from the second day of the week on.
    record(people["stale"], "liver-disease", taken_at=ago(89))
    # Screened again on the fourth day: a new staff screening replaces the old one from then on.
    record(people["rescreened"], "oncology", taken_at=ago(40))
    record(people["rescreened"], "low-blood-pressure", taken_at=at(WEEK[3], 8))
    record(people["allergic"], "product-allergy", taken_at=ago(7), details={"product-allergy": {"allergens": ["rose"]}})
    record(people["pregnant"], "pregnancy", taken_at=ago(7), details={"pregnancy": {"pregnancy_weeks": 20}})
    record(people["noted"], "acute-back-pain", "menstruation", taken_at=at(DAY, 8), notes={"acute-back-pain": "L4"})
    people["minor"].birth_date = DAY.replace(year=DAY.year - 15)
    people["minor"].guardian_consent_at = None
    people["minor"].allergens = ["Lavender "]
    people["minor"].save()
    record(people["minor"], taken_at=ago(10))
    return people


@pytest.fixture
def record(record, catalogue):
    record.catalogue = catalogue
    return record


def test_verdicts_for_days_are_verdict_for_of_every_client_and_day(clients):
    by_day = {day: list(clients.values()) for day in WEEK}

    bulk = selectors.verdicts_for_days(by_day)

    for day in WEEK:
        for person in clients.values():
            assert bulk[(day, person.pk)] == selectors.verdict_for(client=person, massage_type=None, day=day), (
                day,
                person,
            )
    statuses = {str(v.status) for v in bulk.values()}
    assert statuses == {str(s) for s in Status}


def test_verdicts_for_days_judge_a_massage_type_and_courses_as_verdict_for(clients):
    therapeutic = MassageType.objects.get(code="therapeutic-back")
    course = selectors.rules.CourseFacts(starts_on=DAY - datetime.timedelta(days=3), length_days=10)
    people = list(clients.values())
    courses = {day: {clients["stale"].pk: course} for day in WEEK}

    bulk = selectors.verdicts_for_days(dict.fromkeys(WEEK, people), therapeutic, courses=courses)

    for day in WEEK:
        for person in people:
            expected = selectors.verdict_for(
                client=person,
                massage_type=therapeutic,
                day=day,
                course=course if person == clients["stale"] else None,
            )
            assert bulk[(day, person.pk)] == expected


def test_verdicts_for_days_name_findings_in_the_active_language(clients):
    with translation.override("en"):
        bulk = selectors.verdicts_for_days({DAY: [clients["blocked"]]})
        assert bulk[(DAY, clients["blocked"].pk)] == selectors.verdict_for(
            client=clients["blocked"], massage_type=None, day=DAY
        )
        assert bulk[(DAY, clients["blocked"].pk)].blockers[0].name == "Oncological disease"


def test_the_areas_never_worked_are_named_in_the_language_active_at_each_call(clients):
    # The names are made once a language (screening.rules.area_names): a page in the other one must not get them.
    names = {}
    for language in ("uk", "en", "uk"):
        with translation.override(language):
            verdict = selectors.verdicts_for_days({DAY: [clients["plain"]]})[(DAY, clients["plain"].pk)]
            names.setdefault(language, set()).add(next(a.name for a in verdict.avoid_areas if a.code == "heart-area"))
    assert names == {"uk": {"ділянка серця"}, "en": {"the heart area"}}


@pytest.mark.parametrize("days", [1, 7])
def test_verdicts_for_days_take_three_queries_whatever_the_days_and_clients(clients, days, django_assert_num_queries):
    by_day = {day: list(clients.values()) for day in WEEK[:days]}
    with django_assert_num_queries(3):
        verdicts = selectors.verdicts_for_days(by_day)
    assert len(verdicts) == days * len(clients)


def test_verdicts_for_days_of_nobody_ask_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.verdicts_for_days({DAY: []}) == {}
