"""The reception's reminders page and the manager's reminder settings."""

import datetime

import pytest
from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from sessions.models import Reminder, ReminderPolicy
from tests.conftest import login_as
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
START = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
LIST = reverse("sessions:reminder-list")
POLICY = reverse("sessions:reminder-policy")


def make_reminders(count: int, state: str = Reminder.State.SENT, reason: str = "") -> list[Reminder]:
    made = []
    for n in range(count):
        appointment = AppointmentFactory(starts_at=START + datetime.timedelta(days=n))
        made.append(
            Reminder.objects.create(
                client=appointment.client,
                appointment=appointment,
                kind=Reminder.Kind.APPOINTMENT,
                key=f"test:{appointment.pk}:{state}",
                due_at=appointment.starts_at - datetime.timedelta(days=1),
                state=state,
                reason=reason,
                attempts=1,
            )
        )
    return made


def test_reception_sees_every_reminder_with_state_and_reason(reception_client):
    make_reminders(1, Reminder.State.SENT)
    make_reminders(1, Reminder.State.FAILED, reason="550 mailbox unavailable")
    response = reception_client.get(LIST)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-testid="reminder-row"') == 2
    assert "550 mailbox unavailable" in content
    assert 'data-state="failed"' in content and 'data-state="sent"' in content


def test_reception_filters_by_state(reception_client):
    make_reminders(2, Reminder.State.SENT)
    make_reminders(1, Reminder.State.SKIPPED, reason="no consent to email reminders")
    content = reception_client.get(LIST, {"state": "skipped"}).content.decode()
    assert content.count('data-testid="reminder-row"') == 1
    assert 'data-state="skipped"' in content


def test_unknown_state_filter_shows_everything(reception_client):
    make_reminders(2)
    content = reception_client.get(LIST, {"state": "bogus"}).content.decode()
    assert content.count('data-testid="reminder-row"') == 2


def test_list_is_paginated(reception_client):
    make_reminders(51)
    first = reception_client.get(LIST).content.decode()
    second = reception_client.get(LIST, {"page": 2}).content.decode()
    assert first.count('data-testid="reminder-row"') == 50
    assert 'data-testid="reminder-next"' in first
    assert second.count('data-testid="reminder-row"') == 1


def test_manager_sees_the_list_with_a_settings_link(manager_client):
    response = manager_client.get(LIST)
    assert response.status_code == 200
    assert 'data-testid="reminder-policy-link"' in response.content.decode()


def test_masseur_may_not_see_reminders(masseur_client):
    assert masseur_client.get(LIST).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _queries(reception_client, django_assert_max_num_queries, limit: int) -> int:
    with django_assert_max_num_queries(limit) as captured:
        assert reception_client.get(LIST).status_code == 200
    return len(captured.captured_queries)


def test_list_query_count_does_not_grow_with_rows(reception_client, django_assert_max_num_queries):
    make_reminders(2)
    few = _queries(reception_client, django_assert_max_num_queries, 10)
    make_reminders(40)
    many = _queries(reception_client, django_assert_max_num_queries, 10)
    assert many == few
    print(f"reminder-list queries: few={few} many={many}")


# --- settings ---------------------------------------------------------------------------------------


def test_manager_saves_the_policy(manager_client):
    response = manager_client.post(
        POLICY, {"appointment_offset_hours": 48, "cancel_cutoff_hours": 6, "fresh_screening_days_ahead": 5}
    )
    assert response.status_code == 302
    policy = ReminderPolicy.current()
    assert (policy.appointment_offset_hours, policy.cancel_cutoff_hours, policy.fresh_screening_days_ahead) == (
        48,
        6,
        5,
    )


@pytest.mark.parametrize("offset", [0, 1000])
def test_manager_bad_offset_shows_the_error_beside_the_field_and_saves_nothing(manager_client, offset):
    response = manager_client.post(
        POLICY, {"appointment_offset_hours": offset, "cancel_cutoff_hours": 6, "fresh_screening_days_ahead": 5}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["appointment_offset_hours"]
    assert f'value="{offset}"' in response.content.decode()
    policy = ReminderPolicy.current()
    assert (policy.appointment_offset_hours, policy.cancel_cutoff_hours) == (24, 12)


def test_manager_text_in_a_number_field_is_refused(manager_client):
    response = manager_client.post(
        POLICY, {"appointment_offset_hours": "abc", "cancel_cutoff_hours": 6, "fresh_screening_days_ahead": 5}
    )
    assert response.status_code == 200
    assert "appointment_offset_hours" in response.context["form"].errors


def test_receptionist_may_not_edit_the_policy(reception_client):
    assert reception_client.get(POLICY).status_code == 403
    response = reception_client.post(
        POLICY, {"appointment_offset_hours": 48, "cancel_cutoff_hours": 6, "fresh_screening_days_ahead": 5}
    )
    assert response.status_code == 403
    assert ReminderPolicy.current().appointment_offset_hours == 24


def test_masseur_may_not_edit_the_policy(masseur_client):
    assert masseur_client.get(POLICY).status_code == 403


def test_reception_sees_no_settings_link(reception_client):
    assert 'data-testid="reminder-policy-link"' not in reception_client.get(LIST).content.decode()


def test_nav_partial_links_the_page_only_for_those_who_may_see_it(receptionist, masseur_user):
    def nav(user):
        return render_to_string("sessions/_nav_reminders.html", {"perms": PermWrapper(user)})

    assert f'href="{LIST}"' in nav(receptionist)
    assert "nav-reminders" not in nav(masseur_user)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("uk", "немає згоди на нагадування електронною поштою"), ("en", "no consent to email reminders")],
)
def test_skip_reason_is_stored_as_a_code_and_shown_in_the_readers_language(reception_client, settings, language, shown):
    settings.LANGUAGE_CODE = language
    make_reminders(1, Reminder.State.SKIPPED, reason=Reminder.Reason.NO_CONSENT)
    content = reception_client.get(LIST).content.decode()
    reason = content.split('data-testid="reminder-reason">')[1].split("<")[0]
    assert reason == shown


def test_a_failed_sends_reason_keeps_the_mail_servers_words_after_a_translated_prefix(reception_client, settings):
    settings.LANGUAGE_CODE = "uk"
    (reminder,) = make_reminders(1, Reminder.State.FAILED, reason="gave_up:SMTPServerDisconnected: gone")
    Reminder.objects.filter(pk=reminder.pk).update(attempts=8)
    content = reception_client.get(LIST).content.decode()
    reason = content.split('data-testid="reminder-reason">')[1].split("<")[0]
    assert reason == "припинено після 8 спроб: SMTPServerDisconnected: gone"


# --- nearest first, by kind, the client told apart (issue 12) ----------------------------------------


def _due_order(content: str) -> list[str]:
    return [part.split("<")[0] for part in content.split('data-testid="reminder-due">')[1:]]


def test_list_shows_the_nearest_send_time_first_both_sides_of_now(receptionist, time_machine):
    time_machine.move_to(datetime.datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    reception_client = login_as(Client(), receptionist)
    appointment = AppointmentFactory(starts_at=START)
    for day in (8, 14, 9, 11, 1):
        Reminder.objects.create(
            client=appointment.client,
            appointment=appointment,
            kind=Reminder.Kind.APPOINTMENT,
            key=f"test:{day}",
            due_at=datetime.datetime(2027, 3, day, 10, 0, tzinfo=UTC),
        )

    content = reception_client.get(LIST).content.decode()

    # Still to go, soonest first (11th, 14th), then gone, latest first (9th, 8th, 1st); Kyiv time.
    assert _due_order(content) == [
        "11 March, 12:00",
        "14 March, 12:00",
        "9 March, 12:00",
        "8 March, 12:00",
        "1 March, 12:00",
    ]


def test_nearest_first_pages_across_now(receptionist, time_machine):
    time_machine.move_to(datetime.datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    reception_client = login_as(Client(), receptionist)
    appointment = AppointmentFactory(starts_at=START)
    for n in range(30):
        for sign in (1, -1):
            Reminder.objects.create(
                client=appointment.client,
                appointment=appointment,
                kind=Reminder.Kind.APPOINTMENT,
                key=f"test:{n}:{sign}",
                due_at=datetime.datetime(2027, 3, 1, 12, 0, tzinfo=UTC) + sign * datetime.timedelta(hours=n + 1),
            )

    first = _due_order(reception_client.get(LIST).content.decode())
    second = _due_order(reception_client.get(LIST, {"page": 2}).content.decode())

    assert (len(first), len(second)) == (50, 10)
    assert first[0] == "1 March, 15:00" and first[29] == "2 March, 20:00"  # the 30 ahead, soonest first
    assert first[30] == "1 March, 13:00"  # then behind, latest first
    assert second[-1] == "28 February, 08:00"


def test_reception_filters_by_kind_and_state(reception_client):
    sent = make_reminders(2, Reminder.State.SENT)
    Reminder.objects.filter(pk=sent[0].pk).update(kind=Reminder.Kind.MOVED)
    make_reminders(1, Reminder.State.FAILED)

    content = reception_client.get(LIST, {"kind": "moved", "state": "sent"}).content.decode()

    assert content.count('data-testid="reminder-row"') == 1
    assert 'data-kind="moved"' in content


def test_two_clients_of_the_same_name_are_told_apart_by_their_phone(reception_client):
    first, second = make_reminders(2)
    for reminder, phone in ((first, "+380671110011"), (second, "+380671112233")):
        reminder.client.full_name = "Оксана Коваль"
        reminder.client.phone = phone
        reminder.client.save()

    content = reception_client.get(LIST).content.decode()

    phones = [part.split("<")[0] for part in content.split('data-testid="reminder-phone">')[1:]]
    assert sorted(phones) == ["…0011", "…2233"]


def test_filtered_list_query_count_does_not_grow_with_rows(reception_client, django_assert_max_num_queries):
    make_reminders(2)
    few = _queries(reception_client, django_assert_max_num_queries, 10)
    made = make_reminders(60)
    Reminder.objects.filter(pk__in=[r.pk for r in made[:30]]).update(due_at=START + datetime.timedelta(days=400))
    with django_assert_max_num_queries(10) as captured:
        assert reception_client.get(LIST, {"kind": "appointment", "state": "sent", "page": 2}).status_code == 200
    assert len(captured.captured_queries) <= few + 1
