import datetime

import pytest

from screening.diff import compare
from screening.rules import FindingFacts, ScreeningFacts

DAY = datetime.date(2026, 11, 23)


def screening(*findings):
    return ScreeningFacts(taken_on=DAY, findings=tuple(findings))


def f(code, kind="relative", note="", **details):
    return FindingFacts(code=code, kind=kind, name=code, note=note, details=details)


def test_compare_finds_added_removed_and_changed():
    older = screening(f("kidney-disease"), f("pregnancy", pregnancy_weeks=10), f("liver-disease"))
    newer = screening(f("pregnancy", pregnancy_weeks=20), f("liver-disease"), f("heart-disease"))
    result = compare(older, newer)
    assert [x.code for x in result.added] == ["heart-disease"]
    assert [x.code for x in result.removed] == ["kidney-disease"]
    assert [(old.details, new.details) for old, new in result.changed] == [
        ({"pregnancy_weeks": 10}, {"pregnancy_weeks": 20})
    ]
    assert result.has_changes is True
    assert result.kind_worsened is False


def test_compare_counts_a_changed_note_as_a_change():
    result = compare(screening(f("skin-disease", note="elbows")), screening(f("skin-disease", note="back too")))
    assert [new.note for _old, new in result.changed] == ["back too"]


def test_compare_of_equal_screenings_has_no_changes():
    result = compare(screening(f("kidney-disease")), screening(f("kidney-disease")))
    assert (result.added, result.removed, result.changed, result.has_changes) == ((), (), (), False)


@pytest.mark.parametrize(
    ("older", "newer", "worsened"),
    [
        ((), (("kidney-disease", "relative"),), True),
        ((("kidney-disease", "relative"),), (("oncology", "absolute"),), True),
        ((("oncology", "absolute"),), (("kidney-disease", "relative"),), False),
        ((("kidney-disease", "relative"),), (("liver-disease", "relative"),), False),
        ((("product-allergy", "product"),), (("skin-disease", "relative"),), True),
        ((), (), False),
    ],
)
def test_kind_worsened_when_the_worst_kind_gets_worse(older, newer, worsened):
    result = compare(screening(*(f(c, k) for c, k in older)), screening(*(f(c, k) for c, k in newer)))
    assert result.kind_worsened is worsened


def test_compare_against_no_screening_lists_everything_as_added():
    result = compare(None, screening(f("oncology", "absolute")))
    assert [x.code for x in result.added] == ["oncology"]
    assert result.kind_worsened is True


@pytest.mark.django_db
def test_compare_reads_saved_screenings(record, client_record):
    older = record(client_record, "kidney-disease", taken_at=datetime.datetime(2026, 10, 1, 10, tzinfo=datetime.UTC))
    newer = record(client_record, "oncology", taken_at=datetime.datetime(2026, 11, 1, 10, tzinfo=datetime.UTC))
    result = compare(older, newer)
    assert [x.code for x in result.added] == ["oncology"]
    assert [x.code for x in result.removed] == ["kidney-disease"]
    assert result.kind_worsened is True


def test_compare_refuses_something_that_is_not_a_screening():
    with pytest.raises(TypeError):
        compare("yesterday", screening())
