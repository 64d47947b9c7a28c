"""The signed links in clients' emails and the pages behind them (no login)."""

import datetime

import pytest
import time_machine
from django.core import signing
from django.test import Client as DjangoClient
from django.urls import reverse

from clients.models import Client as ClientRecord
from sessions.models import Appointment, Reminder, ReminderPolicy
from sessions.reminders import links
from tests.factories import ClientFactory
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
# 2027-03-01 08:00Z is 10:00 in Kyiv (UTC+2 in winter).
START = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def appointment():
    return AppointmentFactory(client=ClientFactory(language="en"), starts_at=START)


def _path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def _snapshot():
    return (
        list(Appointment.objects.order_by("pk").values_list("pk", "status", "cancelled_at", "cancellation_reason")),
        Reminder.objects.count(),
    )


# --- the link functions ---------------------------------------------------------------------------


def test_confirm_url_is_absolute_with_the_base_url(appointment, settings):
    settings.PARLOR_BASE_URL = "https://parlor.example"
    url = links.confirm_url(appointment)
    assert url.startswith("https://parlor.example/sessions/r/")
    assert url.endswith("/confirm/")


def test_urls_default_to_localhost_without_the_setting(appointment, settings):
    del settings.PARLOR_BASE_URL
    assert links.cancel_url(appointment).startswith("http://127.0.0.1:8000/sessions/r/")
    assert links.screening_url(appointment.client).startswith("http://127.0.0.1:8000/sessions/s/")


def test_token_reads_back_its_appointment(appointment):
    token = links.appointment_token(appointment, links.CONFIRM)
    assert links.appointment_from_token(token, links.CONFIRM) == appointment


def test_token_of_one_purpose_is_invalid_for_the_other(appointment):
    token = links.appointment_token(appointment, links.CONFIRM)
    with pytest.raises(links.LinkError) as error:
        links.appointment_from_token(token, links.CANCEL)
    assert error.value.reason == links.LinkError.INVALID


def test_token_tampered_is_invalid(appointment):
    token = links.appointment_token(appointment, links.CANCEL)
    with pytest.raises(links.LinkError) as error:
        links.appointment_from_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), links.CANCEL)
    assert error.value.reason == links.LinkError.INVALID


def test_token_for_another_id_signed_elsewhere_is_invalid(appointment):
    other = AppointmentFactory(starts_at=START + datetime.timedelta(hours=3))
    forged = signing.dumps({"a": other.pk, "s": START.isoformat()}, salt="not-ours")
    with pytest.raises(links.LinkError) as error:
        links.appointment_from_token(forged, links.CANCEL)
    assert error.value.reason == links.LinkError.INVALID


def test_token_after_a_move_is_stale(appointment):
    token = links.appointment_token(appointment, links.CONFIRM)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=START + datetime.timedelta(hours=1),
        ends_at=START + datetime.timedelta(hours=2),
        blocks_until=START + datetime.timedelta(hours=2),
    )
    with pytest.raises(links.LinkError) as error:
        links.appointment_from_token(token, links.CONFIRM)
    assert error.value.reason == links.LinkError.STALE


def test_token_expires_when_the_appointment_starts(appointment):
    token = links.appointment_token(appointment, links.CONFIRM)
    with time_machine.travel(START, tick=False), pytest.raises(links.LinkError) as error:
        links.appointment_from_token(token, links.CONFIRM)
    assert error.value.reason == links.LinkError.EXPIRED


def test_screening_token_lives_fourteen_days(appointment):
    token = links.screening_token(appointment.client)
    with time_machine.travel(NOW + datetime.timedelta(days=13, hours=23), tick=False):
        assert links.client_from_screening_token(token) == appointment.client
    later = NOW + datetime.timedelta(days=14, minutes=1)
    with time_machine.travel(later, tick=False), pytest.raises(links.LinkError) as error:
        links.client_from_screening_token(token)
    assert error.value.reason == links.LinkError.EXPIRED


# --- the confirm page -------------------------------------------------------------------------------


def test_confirm_get_and_head_change_nothing(client, appointment):
    url = _path(links.confirm_url(appointment))
    before = _snapshot()
    response = client.get(url)
    head = client.head(url)
    assert response.status_code == 200 and head.status_code == 200
    assert _snapshot() == before
    content = response.content.decode()
    assert "Monday, 1 March 2027, 10:00" in content
    assert str(appointment.massage_type) in content
    assert 'data-testid="link-confirm"' in content


def test_confirm_post_twice_confirms_once(client, appointment):
    url = _path(links.confirm_url(appointment))
    first = client.post(url)
    assert 'data-testid="link-done"' in first.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CONFIRMED
    second = client.post(url)
    assert 'data-testid="link-already"' in second.content.decode()
    assert "already confirmed" in second.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CONFIRMED


def test_confirm_page_speaks_the_clients_language(client):
    appointment = AppointmentFactory(client=ClientFactory(language="uk"), starts_at=START)
    response = client.get(_path(links.confirm_url(appointment)))
    assert '<html lang="uk">' in response.content.decode()


def test_confirm_page_shows_no_health_details(client, appointment):
    response = client.get(_path(links.confirm_url(appointment)))
    assert appointment.client.full_name not in response.content.decode()


def test_confirm_tampered_token_gives_a_friendly_400(client, appointment):
    url = _path(links.confirm_url(appointment)).replace("/confirm/", "x/confirm/")
    response = client.post(url)
    assert response.status_code == 400
    assert 'data-reason="invalid"' in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_confirm_after_the_start_gives_410(client, appointment):
    url = _path(links.confirm_url(appointment))
    with time_machine.travel(START + datetime.timedelta(minutes=1), tick=False):
        response = client.post(url)
    assert response.status_code == 410
    assert 'data-reason="expired"' in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_confirm_link_of_a_moved_appointment_gives_410(client, appointment):
    url = _path(links.confirm_url(appointment))
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=START + datetime.timedelta(days=1),
        ends_at=START + datetime.timedelta(days=1, hours=1),
        blocks_until=START + datetime.timedelta(days=1, hours=1),
    )
    response = client.post(url)
    assert response.status_code == 410
    assert 'data-reason="stale"' in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_link_for_a_acts_only_on_a(client, appointment):
    other = AppointmentFactory(client=appointment.client, starts_at=START + datetime.timedelta(days=2))
    client.post(_path(links.cancel_url(appointment)))
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED
    assert Appointment.objects.get(pk=other.pk).status == Appointment.Status.BOOKED


def test_link_of_a_with_b_id_swapped_in_is_refused(client, appointment):
    other = AppointmentFactory(starts_at=START + datetime.timedelta(days=2))
    token = links.appointment_token(appointment, links.CANCEL)
    # Swap the payload of A's token for B's id while keeping A's signature.
    payload, rest = token.split(":", 1)
    forged_payload = signing.dumps({"a": other.pk, "s": START.isoformat()}, salt="x").split(":", 1)[0]
    response = client.post(reverse("sessions:link-cancel", args=[f"{forged_payload}:{rest}"]))
    assert response.status_code == 400
    assert Appointment.objects.get(pk=other.pk).status == Appointment.Status.BOOKED
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_confirm_of_a_cancelled_appointment_says_so(client, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    response = client.post(_path(links.confirm_url(appointment)))
    assert response.status_code == 200
    assert "This appointment was cancelled." in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED


def test_link_pages_refuse_other_methods(client, appointment):
    assert client.put(_path(links.confirm_url(appointment))).status_code == 405


# --- the cancel page --------------------------------------------------------------------------------


def test_cancel_get_and_head_change_nothing(client, appointment):
    url = _path(links.cancel_url(appointment))
    before = _snapshot()
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200
    assert _snapshot() == before
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_cancel_post_twice_cancels_once(client, appointment):
    url = _path(links.cancel_url(appointment))
    first = client.post(url)
    assert 'data-testid="link-done"' in first.content.decode()
    cancelled = Appointment.objects.get(pk=appointment.pk)
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_by is None
    assert cancelled.cancellation_reason == Appointment.CANCELLED_BY_CLIENT_LINK
    assert cancelled.cancellation_reason_text == "Cancelled by the client by the email link."
    stamp = cancelled.cancelled_at
    second = client.post(url)
    assert "already cancelled" in second.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).cancelled_at == stamp


def test_cancel_after_the_cutoff_gives_the_phone_and_changes_nothing(client, appointment, settings):
    settings.PARLOR_PHONE = "+380 44 123 45 67"
    url = _path(links.cancel_url(appointment))
    # The default cutoff is 12 h: 11 h before the start is too late.
    with time_machine.travel(START - datetime.timedelta(hours=11), tick=False):
        shown = client.get(url)
        posted = client.post(url)
    for response in (shown, posted):
        content = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="link-too-late"' in content
        assert "+380 44 123 45 67" in content
        assert 'data-testid="link-cancel"' not in content
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_cancel_just_before_the_cutoff_cancels(client, appointment):
    url = _path(links.cancel_url(appointment))
    with time_machine.travel(START - datetime.timedelta(hours=12, minutes=1), tick=False):
        client.post(url)
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED


def test_cancel_cutoff_follows_the_policy(client, appointment):
    ReminderPolicy.objects.update_or_create(pk=1, defaults={"cancel_cutoff_hours": 48})
    url = _path(links.cancel_url(appointment))
    with time_machine.travel(START - datetime.timedelta(hours=47), tick=False):
        response = client.post(url)
    assert 'data-testid="link-too-late"' in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED


def test_confirm_button_posts_with_the_pages_csrf_token(appointment):
    browser = DjangoClient(enforce_csrf_checks=True)
    url = _path(links.confirm_url(appointment))
    assert browser.post(url).status_code == 403  # no token: refused, nothing changed
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.BOOKED
    page = browser.get(url)
    token = page.context["csrf_token"]
    assert browser.post(url, {"csrfmiddlewaretoken": str(token)}).status_code == 200
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CONFIRMED


def test_screening_link_of_a_merged_client_serves_the_surviving_record(appointment):
    survivor = ClientFactory()
    ClientRecord.objects.filter(pk=appointment.client.pk).update(merged_into=survivor)
    token = links.screening_token(appointment.client)
    assert links.client_from_screening_token(token) == survivor


def test_confirm_page_of_an_on_hold_appointment_shows_why_and_no_button(client, appointment, settings):
    settings.PARLOR_PHONE = "+380 44 123 45 67"
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.ON_HOLD)
    content = client.get(_path(links.confirm_url(appointment))).content.decode()
    assert "This appointment needs a call from the parlor first." in content
    assert "+380 44 123 45 67" in content
    assert 'data-testid="link-confirm"' not in content


# --- the front desk hears about a slot freed soon ------------------------------------------------


def test_cancel_by_link_within_48_hours_tells_the_reception_once_without_health_details(
    client, appointment, settings, django_capture_on_commit_callbacks
):
    from django.core import mail

    settings.RECEPTION_EMAIL = "desk@parlor.example"
    url = _path(links.cancel_url(appointment))
    with time_machine.travel(START - datetime.timedelta(hours=30), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url)

    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["desk@parlor.example"]
    assert notice.subject == "Cancelled by the client: 1 March 2027, 10:00 is free"
    assert notice.body.startswith(
        f"{appointment.client.full_name} cancelled the appointment on Monday, 1 March 2027, 10:00 "
        f"({appointment.massage_type.name_en}, {appointment.masseur.display_name}, {appointment.room.name})"
    )
    assert str(appointment.client.phone) in notice.body
    assert notice.attachments == [] and notice.alternatives == []


def test_cancel_by_link_further_ahead_sends_the_reception_nothing(
    client, appointment, django_capture_on_commit_callbacks
):
    from django.core import mail

    with (
        time_machine.travel(START - datetime.timedelta(hours=49), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(_path(links.cancel_url(appointment)))

    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED
    assert mail.outbox == []
