import datetime
import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from screening.models import Clearance, Contraindication, Finding, Screening
from screening.rules import RULES
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("screening.migrations.0003_seed_contraindications")


def test_every_seeded_catalogue_code_has_a_rule_and_back():
    assert set(Contraindication.objects.values_list("code", flat=True)) == set(RULES)


def test_seeded_kinds_and_day_of_flags_match_the_rules():
    seeded = {c.code: (c.kind, c.is_day_of) for c in Contraindication.objects.all()}
    assert seeded == {code: (str(rule.kind), rule.day_of) for code, rule in RULES.items()}


def test_day_of_entries_are_fever_intoxication_menstruation_and_acute_pain():
    assert set(Contraindication.objects.filter(is_day_of=True).values_list("code", flat=True)) == {
        "fever",
        "intoxication",
        "menstruation",
        "acute-back-pain",
    }


def test_every_askable_entry_has_a_question_in_both_languages():
    askable = Contraindication.objects.exclude(kind=Contraindication.Kind.LOCAL)
    assert askable.count() == 24
    assert all(c.question_uk and c.question_en and c.name_uk and c.name_en for c in askable)


def test_catalogue_counts_per_kind():
    counts = {kind: Contraindication.objects.filter(kind=kind).count() for kind in Contraindication.Kind.values}
    assert counts == {"absolute": 13, "relative": 10, "local": 5, "product": 1}


def test_seed_runs_again_without_duplicates_and_keeps_manager_edits():
    Contraindication.objects.filter(code="fever").update(name_en="Temperature above 37.5")
    seed_migration.seed(global_apps, None)
    assert Contraindication.objects.count() == 29
    assert Contraindication.objects.get(code="fever").name_en == "Temperature above 37.5"


def test_name_follows_the_active_language(settings):
    fever = Contraindication.objects.get(code="fever")
    assert fever.name == "High body temperature (fever)"
    settings.LANGUAGE_CODE = "uk"
    from django.utils import translation

    with translation.override("uk"):
        assert fever.name == "Висока температура тіла"


def test_screening_save_on_an_existing_row_is_refused(record, client_record):
    screening = record(client_record, "kidney-disease")
    screening.notes = "changed"
    with pytest.raises(ValidationError):
        screening.save()


def test_finding_save_on_an_existing_row_is_refused(record, client_record):
    finding = record(client_record, "kidney-disease").findings.get()
    finding.note = "changed"
    with pytest.raises(ValidationError):
        finding.save()


def test_database_refuses_an_update_of_a_screening(record, client_record):
    screening = record(client_record, "kidney-disease")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(notes="rewritten")


def test_database_refuses_an_update_of_a_finding(record, client_record):
    screening = record(client_record, "kidney-disease")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Finding.objects.filter(screening=screening).update(note="rewritten")


def test_database_refuses_moving_a_finding_to_another_contraindication(record, client_record, catalogue):
    screening = record(client_record, "kidney-disease")
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.filter(screening=screening).update(contraindication=catalogue["liver-disease"])


def test_database_allows_a_merge_to_move_screenings_to_another_client(record, client_record):
    screening = record(client_record, "kidney-disease")
    survivor = ClientFactory()
    Screening.objects.filter(client=client_record).update(client=survivor)
    screening.refresh_from_db()
    assert screening.client == survivor


def test_database_refuses_a_merge_update_that_also_changes_something_else(record, client_record):
    record(client_record)
    survivor = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Screening.objects.filter(client=client_record).update(client=survivor, notes="and this")


def test_submission_key_is_unique_in_the_database(record, client_record):
    screening = record(client_record)
    with pytest.raises(IntegrityError, match="screening_screening_submission_key_unique"), transaction.atomic():
        Screening.objects.create(
            client=client_record, taken_at=screening.taken_at, submission_key=screening.submission_key
        )


def test_one_finding_per_contraindication_per_screening(record, client_record, catalogue):
    screening = record(client_record, "kidney-disease")
    with pytest.raises(IntegrityError, match="screening_finding_one_per_contraindication"), transaction.atomic():
        Finding.objects.create(screening=screening, contraindication=catalogue["kidney-disease"])


def test_clearance_must_cover_something(client_record):
    with pytest.raises(IntegrityError, match="screening_clearance_covers_something"), transaction.atomic():
        Clearance.objects.create(
            client=client_record,
            kind="permission",
            doctor_name="Д-р",
            issued_on=datetime.date(2026, 1, 1),
            valid_until=datetime.date(2026, 2, 1),
        )


def test_clearance_cannot_end_before_it_was_issued(client_record, catalogue):
    with pytest.raises(IntegrityError, match="screening_clearance_valid_after_issued"), transaction.atomic():
        Clearance.objects.create(
            client=client_record,
            kind="permission",
            doctor_name="Д-р",
            issued_on=datetime.date(2026, 2, 1),
            valid_until=datetime.date(2026, 1, 31),
            covers_contraindication=catalogue["skin-disease"],
        )


def _perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.parametrize(("role", "expected"), [("Manager", True), ("Masseur", True), ("Receptionist", False)])
def test_health_record_permission_by_role(role, expected):
    assert ("screening.view_health_record" in _perms(role)) is expected


@pytest.mark.parametrize(("role", "expected"), [("Manager", True), ("Masseur", False), ("Receptionist", False)])
def test_every_health_record_permission_only_for_the_manager(role, expected):
    # Masseurs see only their own clients' records (screening.access).
    assert ("screening.view_all_health_records" in _perms(role)) is expected


def test_receptionist_may_add_screenings_and_clearances_and_list_clearances():
    perms = _perms("Receptionist")
    assert {"screening.add_screening", "screening.add_clearance", "screening.view_clearance"} <= perms
    assert "screening.view_screening" not in perms
    assert "screening.view_finding" not in perms


def test_only_the_manager_edits_the_catalogue():
    assert "screening.change_contraindication" in _perms("Manager")
    assert "screening.change_contraindication" not in _perms("Masseur")
    assert "screening.change_contraindication" not in _perms("Receptionist")


@pytest.mark.django_db(transaction=True)
def test_data_migrations_reseed_after_a_flush(seeded_db):
    assert Contraindication.objects.count() == 29
    assert "screening.view_health_record" in _perms("Masseur")
    assert "screening.view_all_health_records" in _perms("Manager")
    assert "screening.view_all_health_records" not in _perms("Masseur")
