"""Erasure of a client's personal data, consent withdrawal that starts it, and the change history."""

import os
import re
import shutil
import subprocess

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from clients.erasure import ERASED, client_erase
from clients.models import Client, Erasure
from screening.models import Clearance, Finding, Screening
from sessions.models import Appointment, DayOfCheck, Flag, Override, Reminder, SessionLog, SessionLogAddendum
from tests.clients.helpers import make_client
from tests.conftest import login_as
from tests.privacy_world import build_world

A_IDENTITY = ["Ярослава Приватна", "Ярослава", "Приватна", "yaroslava", "+380501112233", "0501112233", "501112233"]


def _event(app_label: str, model: str):
    return apps.get_model(app_label, f"{model}Event").objects


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world()


def _erase(world, *, keep: bool, reason="Письмова заява клієнтки від 01.12.2026"):
    return client_erase(client=world.a.client, reason=reason, keep_clinical_notes=keep, erased_by=world.manager)


@pytest.mark.django_db
def test_erasure_replaces_identity_and_keeps_that_sessions_took_place(world):
    a = world.a
    erasure = _erase(world, keep=False)
    client = Client.objects.get(pk=a.client.pk)
    assert (client.full_name, client.phone, client.email, client.notes, client.search_text) == (
        f"[erased #{client.pk}]",
        "",
        "",
        "",
        "",
    )
    assert (client.birth_date.isoformat(), client.allergens, client.reminder_consent) == ("1984-01-01", [], False)
    assert client.erased_at is not None
    assert (erasure.client, erasure.erased_by, erasure.kept_clinical_notes) == (client, world.manager, False)
    # That the sessions took place stays; the clinical texts do not.
    assert Appointment.objects.filter(client=client).count() == 2
    log = SessionLog.objects.get(pk=a.log.pk)
    assert (log.subjective, log.pain_before, log.pain_after, log.status) == ("", 6, 3, "signed")
    assert SessionLogAddendum.objects.get(pk=a.addendum.pk).text == ERASED
    assert Flag.objects.get(pk=a.flag.pk).what_changed == ERASED
    assert DayOfCheck.objects.get(appointment=a.done).answers == {}
    assert list(Override.objects.filter(appointment=a.upcoming).values_list("reason", "covers_names")) == [(ERASED, [])]
    assert not Screening.objects.filter(client=client).exists()
    assert not Clearance.objects.filter(client=client).exists()
    assert Reminder.objects.get(pk=a.reminder.pk).reason == f"SMTPRecipientsRefused: {ERASED} refused"


@pytest.mark.django_db
def test_erasure_removes_the_change_history_of_the_identity_and_of_what_it_deleted(world):
    a = world.a
    screening_ids = [a.screening.pk]
    _erase(world, keep=False)
    assert [e.full_name for e in _event("clients", "Client").filter(pgh_obj_id=a.client.pk)] == [
        f"[erased #{a.client.pk}]"
    ]
    assert not _event("screening", "Screening").filter(pgh_obj_id__in=screening_ids).exists()
    assert not _event("screening", "Finding").filter(screening_id__in=screening_ids).exists()
    assert not _event("screening", "Clearance").filter(client_id=a.client.pk).exists()
    assert set(_event("treatments", "SessionLog").filter(pgh_obj_id=a.log.pk).values_list("subjective", flat=True)) == {
        ""
    }


@pytest.mark.django_db
def test_erasure_keeping_clinical_notes_cuts_the_identity_out_of_them(world):
    a = world.a
    _erase(world, keep=True)
    screening = Screening.objects.get(pk=a.screening.pk)
    assert screening.notes == f"CLINICAL-SCREENING-NOTE-A: {ERASED} says it started in May"
    assert Finding.objects.get(screening=screening).note == "CLINICAL-FINDING-NOTE-A"
    assert SessionLog.objects.get(pk=a.log.pk).subjective == f"CLINICAL-LOG-NOTE-A: {ERASED} slept badly"
    assert SessionLogAddendum.objects.get(pk=a.addendum.pk).text == "CLINICAL-ADDENDUM-A"
    client = Client.objects.get(pk=a.client.pk)
    assert client.allergens == ["zz-oil-a"]
    assert client.notes == ""
    clearance = Clearance.objects.get(pk=a.clearance.pk)
    assert (clearance.notes, clearance.scan.name) == ("CLINICAL-CLEARANCE-NOTE-A", "")
    history = _event("screening", "Screening").filter(pgh_obj_id=screening.pk).values_list("notes", flat=True)
    assert set(history) == {f"CLINICAL-SCREENING-NOTE-A: {ERASED} says it started in May"}


@pytest.mark.django_db
def test_erasure_deletes_the_scans_from_storage_after_commit(world, django_capture_on_commit_callbacks):
    path = world.a.clearance.scan.path
    assert os.path.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        _erase(world, keep=True)
    assert not os.path.exists(path)
    assert os.path.exists(world.b.clearance.scan.path)


@pytest.mark.django_db
def test_erasure_leaves_the_other_client_alone(world):
    b = world.b
    _erase(world, keep=False)
    client = Client.objects.get(pk=b.client.pk)
    assert (client.full_name, client.email, client.erased_at) == (
        "Богдана Сусідка",
        "bohdana.neighbour@example.com",
        None,
    )
    assert Screening.objects.get(pk=b.screening.pk).notes.startswith("CLINICAL-SCREENING-NOTE-B: Богдана Сусідка")
    assert SessionLog.objects.get(pk=b.log.pk).subjective == "CLINICAL-LOG-NOTE-B: Богдана Сусідка slept badly"


@pytest.mark.django_db
def test_erasure_reaches_records_merged_into_the_client_and_the_admin_log(world):
    a = world.a
    duplicate = make_client(full_name="Ярослава Приватна", phone="0931112233", email="old@example.com")
    from clients.services import client_merge

    client_merge(source=duplicate, target=a.client, merged_by=world.manager)
    LogEntry.objects.create(
        user=world.manager,
        content_type=ContentType.objects.get_for_model(Client),
        object_id=str(a.client.pk),
        object_repr="Ярослава Приватна",
        action_flag=CHANGE,
        change_message="Changed phone of Ярослава Приватна.",
    )
    _erase(world, keep=False)
    duplicate.refresh_from_db()
    assert (duplicate.full_name, duplicate.phone, duplicate.email) == (f"[erased #{duplicate.pk}]", "", "")
    entry = LogEntry.objects.get()
    assert (entry.object_repr, entry.change_message) == (ERASED, f"Changed phone of {ERASED}.")


@pytest.mark.django_db
def test_erasure_needs_the_permission_a_reason_and_happens_once(world):
    with pytest.raises(PermissionDenied):
        client_erase(client=world.a.client, reason="x", keep_clinical_notes=False, erased_by=world.receptionist)
    with pytest.raises(ValidationError) as no_reason:
        _erase(world, keep=False, reason="   ")
    assert no_reason.value.message_dict == {"reason": ["Write why the data is erased."]}
    assert not Erasure.objects.exists()
    _erase(world, keep=False)
    with pytest.raises(ValidationError, match="already erased"):
        _erase(world, keep=False)


@pytest.mark.django_db
def test_erased_client_drops_out_of_search_and_cannot_be_edited(world, client):
    from clients import selectors, services

    _erase(world, keep=False)
    assert world.a.client.pk not in [c.pk for c in selectors.client_search("")]
    erased = Client.objects.get(pk=world.a.client.pk)
    with pytest.raises(ValidationError, match="erased"):
        services.client_update(
            client=erased, full_name="Нове Ім'я", birth_date=erased.birth_date, sex=erased.sex, phone="0501112233"
        )


@pytest.mark.django_db
def test_erase_page_takes_a_written_reason_from_the_manager(world, client):
    login_as(client, world.manager)
    url = reverse("clients:client-erase", args=[world.a.client.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": "", "keep_clinical_notes": "on", "confirm": "on"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    unconfirmed = client.post(url, {"reason": "Заява", "confirm": ""})
    assert unconfirmed.context["form"].errors == {"confirm": ["Tick this to confirm the erasure."]}
    assert not Erasure.objects.exists()
    done = client.post(url, {"reason": "Заява клієнтки", "keep_clinical_notes": "on", "confirm": "on"})
    assert done.status_code == 302
    assert Erasure.objects.get().kept_clinical_notes is True
    page = client.get(reverse("clients:client-detail", args=[world.a.client.pk])).content.decode()
    assert 'data-testid="erased-banner"' in page
    assert "Ярослава" not in page


@pytest.mark.django_db
def test_erase_page_is_the_managers_only(world, client):
    login_as(client, world.receptionist)
    assert client.get(reverse("clients:client-erase", args=[world.a.client.pk])).status_code == 403


# --- consent withdrawal starts the erasure ---------------------------------------------------------


@pytest.mark.django_db
def test_withdrawing_data_consent_stops_reminders_and_asks_the_manager_to_erase(world, client):
    a = world.a
    login_as(client, world.receptionist)
    response = client.post(reverse("clients:client-withdraw-consent", args=[a.client.pk]))
    assert response.status_code == 302
    record = Client.objects.get(pk=a.client.pk)
    assert record.data_consent_withdrawn_at is not None
    assert record.reminder_consent is False
    assert record.erased_at is None

    login_as(client, world.manager)
    dashboard = client.get("/").content.decode()
    assert 'data-testid="erasure-panel"' in dashboard
    assert reverse("clients:client-erase", args=[a.client.pk]) in dashboard
    form = client.get(reverse("clients:client-erase", args=[a.client.pk])).context["form"]
    assert form.initial["reason"].startswith("The client withdrew consent to data processing on ")


@pytest.mark.django_db
def test_withdrawal_stops_a_due_reminder_at_once(world):
    from django.utils import timezone

    from clients.services import client_withdraw_data_consent
    from sessions.reminders import outbox, planning

    reminder = world.a.reminder
    key = planning.appointment_key(world.a.upcoming, Reminder.Kind.APPOINTMENT)
    Reminder.objects.filter(pk=reminder.pk).update(state=Reminder.State.DUE, reason="", key=key)
    reminder.refresh_from_db()
    assert outbox.why_not(reminder, now=timezone.now()) is None
    client_withdraw_data_consent(client=world.a.client, by=world.receptionist)
    reminder.refresh_from_db()
    assert outbox.why_not(reminder, now=timezone.now()) == (Reminder.State.SKIPPED, Reminder.Reason.NO_CONSENT)


@pytest.mark.django_db
def test_no_erasure_panel_when_nobody_waits(world, client):
    login_as(client, world.manager)
    assert 'data-testid="erasure-panel"' not in client.get("/").content.decode()


# --- the change history ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_profile_changes_are_kept_with_who_and_where(manager_client, manager):
    record = make_client()
    data = {
        "full_name": "Оксана Шевченко-Коваль",
        "phone": "067 123 4567",
        "email": "oksana@example.com",
        "birth_date": "1985-05-17",
        "sex": "female",
        "language": "uk",
        "allergens": "rose",
        "notes": "",
    }
    assert manager_client.post(reverse("clients:client-edit", args=[record.pk]), data).status_code == 302
    events = list(_event("clients", "Client").filter(pgh_obj_id=record.pk).order_by("pgh_id"))
    assert [(e.pgh_label, e.full_name) for e in events] == [
        ("insert", "Оксана Шевченко"),
        ("update", "Оксана Шевченко-Коваль"),
    ]
    assert events[1].pgh_context.metadata == {"user": manager.pk, "url": f"/clients/{record.pk}/edit/"}


# --- a real dump of the database ------------------------------------------------------------------


def _pg_dump() -> str:
    settings = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    binary = f"/usr/lib/postgresql/{major}/bin/pg_dump"
    if not os.path.exists(binary):
        binary = shutil.which("pg_dump")
    assert binary, "pg_dump not found"
    command = [binary, "--no-owner", "-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432)]
    command += ["-U", settings["USER"], settings["NAME"]]
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=300).stdout


@pytest.mark.django_db(transaction=True)
def test_after_erasure_a_database_dump_holds_neither_name_phone_nor_email(seeded_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    email = world.a.client.email
    before = _pg_dump()
    assert "Ярослава Приватна" in before and email in before and "+380501112233" in before
    _erase(world, keep=True)
    dump = _pg_dump()
    lowered = dump.lower()
    for secret in [*A_IDENTITY, email]:
        assert secret.lower() not in lowered, secret
    assert not re.search(r"0?50\s?111\s?22\s?33", dump)
    # The dump is real: the other client and A's anonymised notes are in it.
    assert "Богдана Сусідка" in dump
    assert "CLINICAL-LOG-NOTE-A: [erased] slept badly" in dump
