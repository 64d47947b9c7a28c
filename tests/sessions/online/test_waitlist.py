"""The waiting list: who gets offered a freed time and in which order, offers that expire and go to the
next in line, the first to accept wins, the emails as an outbox, the front desk's pages and panels."""

import datetime
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from sessions.booking import freed
from sessions.booking import services as booking
from sessions.models import (
    Appointment,
    CallRequest,
    OnlinePolicy,
    WaitlistEntry,
    WaitlistMessage,
    WaitlistOffer,
    WaitlistSlot,
)
from sessions.waitlist import links, matching, outbox, selectors, services
from sessions.waitlist import tasks as tasks_waitlist
from tests.factories import ClientFactory
from tests.sessions.factories import AppointmentFactory, CourseFactory
from tests.sessions.online.conftest import NINE, NOW, TUESDAY, condition_names, screen

pytestmark = pytest.mark.django_db
REAL_QUEUE = tasks_waitlist._queue
# 40 minutes and 15 of rest, on the hour as the front desk books them: four sessions fill 09:00-13:00.
STARTS = [NINE + datetime.timedelta(hours=n) for n in range(4)]


@pytest.fixture
def full(parlor):
    """Tuesday morning fully booked by other (screened) clients."""
    booked = [
        AppointmentFactory(massage_type=parlor.massage_type, masseur=parlor.masseur, room=parlor.room, starts_at=start)
        for start in STARTS
    ]
    for appointment in booked:
        screen(appointment.client)
    return booked


def waiting(parlor, *, client=None, screened=True, **wishes):
    client = client or ClientFactory()
    if screened:
        screen(client)
    values = {"weekdays": [TUESDAY.weekday()], "until": TUESDAY} | wishes
    return services.entry_add(client=client, massage_type=parlor.massage_type, **values)


def cancel(appointment, receptionist):
    return booking.appointment_cancel(appointment=appointment, reason="called", by=receptionist)


def offers(**filters):
    return list(WaitlistOffer.objects.filter(**filters).order_by("pk"))


# --- who is offered what --------------------------------------------------------------------------


def test_nothing_free_nothing_offered(full, parlor):
    waiting(parlor)

    assert matching.waitlist_scan()["offered"] == 0
    assert WaitlistSlot.objects.count() == 0


def test_a_freed_time_goes_to_the_best_fits_in_the_lines_order(full, parlor, receptionist, mailoutbox):
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"offers_at_once": 3})
    with time_machine.travel(NOW - datetime.timedelta(days=3)):
        oldest = waiting(parlor)
    with time_machine.travel(NOW - datetime.timedelta(days=2)):
        client = ClientFactory()
        course_client = waiting(
            parlor, client=client, course=CourseFactory(client=client, massage_type=parlor.massage_type)
        )
    with time_machine.travel(NOW - datetime.timedelta(days=1)):
        newest = waiting(parlor)
    manager_first = waiting(parlor)
    WaitlistEntry.objects.filter(pk=manager_first.pk).update(priority=True)
    cancel(full[1], receptionist)

    outcome = matching.waitlist_scan()

    assert outcome["offered"] == 3
    (slot,) = WaitlistSlot.objects.all()
    assert (slot.masseur, slot.starts_at, slot.state) == (parlor.masseur, STARTS[1], WaitlistSlot.State.OPEN)
    assert [o.entry for o in offers()] == [manager_first, course_client, oldest]
    assert not offers(entry=newest)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(e.client.email for e in (manager_first, course_client, oldest))
    assert outcome["sent"] == 3


def test_only_what_the_screening_allows_is_offered(full, parlor, receptionist):
    blocked = ClientFactory()
    screen(blocked, "oncology")
    waiting(parlor, client=blocked, screened=False)
    never_screened = waiting(parlor, screened=False)
    fine = waiting(parlor)
    cancel(full[0], receptionist)

    matching.waitlist_scan()

    assert [o.entry for o in offers()] == [fine]
    assert not offers(entry=never_screened)


@pytest.mark.parametrize(
    ("wishes", "offered"),
    [
        ({}, True),
        ({"windows": ["morning"]}, True),
        ({"windows": ["evening"]}, False),
        ({"weekdays": [3]}, False),
        ({"until": NOW.date()}, False),
    ],
)
def test_wishes_decide_what_is_offered(full, parlor, receptionist, wishes, offered):
    entry = waiting(parlor, **wishes)
    cancel(full[0], receptionist)

    matching.waitlist_scan()

    assert bool(offers(entry=entry)) is offered


def test_a_wished_masseur_is_the_only_one_offered(db, now, receptionist):
    from tests.sessions.online.conftest import make_parlor

    parlor = make_parlor(masseurs=2, rooms=2)
    other = parlor.massage_type.masseurs.exclude(pk=parlor.masseur.pk).get()
    for masseur in (parlor.masseur, other):
        for start in STARTS:
            AppointmentFactory(massage_type=parlor.massage_type, masseur=masseur, starts_at=start)
    entry = waiting(parlor, masseur=parlor.masseur)
    cancel(Appointment.objects.get(masseur=other, starts_at=STARTS[0]), receptionist)

    matching.waitlist_scan()
    assert not offers(entry=entry)

    cancel(Appointment.objects.get(masseur=parlor.masseur, starts_at=STARTS[2]), receptionist)
    matching.waitlist_scan()
    (offer,) = offers(entry=entry)
    assert (offer.slot.masseur, offer.slot.starts_at) == (parlor.masseur, STARTS[2])


def test_a_time_too_soon_is_not_offered(parlor, receptionist):
    # Monday 10:00: the 11:00 start is under the two hours' notice, 12:00 is not.
    entry = waiting(parlor, weekdays=[], until=NOW.date())

    with time_machine.travel(NOW, tick=False):
        matching.waitlist_scan()

    (offer,) = offers(entry=entry)
    assert offer.slot.starts_at == datetime.datetime(2027, 2, 1, 10, 0, tzinfo=datetime.UTC)


def test_scanning_twice_offers_nothing_twice(full, parlor, receptionist, mailoutbox):
    waiting(parlor)
    cancel(full[0], receptionist)

    matching.waitlist_scan()
    second = matching.waitlist_scan()

    assert second["offered"] == 0
    assert WaitlistOffer.objects.count() == 1
    assert WaitlistMessage.objects.count() == 1
    assert len(mailoutbox) == 1


# --- answers, expiry, the next in line ------------------------------------------------------------


@pytest.fixture
def offered(full, parlor, receptionist):
    """Two waiting clients offered the freed 09:55."""
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"offers_at_once": 2, "offer_minutes": 60})
    waiting(parlor)
    waiting(parlor)
    cancel(full[1], receptionist)
    matching.waitlist_scan()
    return offers()


def test_the_first_to_accept_gets_it_and_the_other_is_told(offered, mailoutbox):
    mailoutbox.clear()
    winner, other = offered

    result = services.offer_accept(offer=winner)

    assert result.outcome == services.ACCEPTED
    appointment = result.appointment
    assert (appointment.client, appointment.starts_at, appointment.status, appointment.channel) == (
        winner.entry.client,
        STARTS[1],
        Appointment.Status.BOOKED,
        Appointment.Channel.WAITLIST,
    )
    other.refresh_from_db()
    assert other.state == WaitlistOffer.State.TAKEN
    assert WaitlistSlot.objects.get().state == WaitlistSlot.State.FILLED
    assert WaitlistEntry.objects.get(pk=winner.entry_id).state == WaitlistEntry.State.FILLED
    assert services.offer_accept(offer=other).outcome == services.TAKEN
    outbox.dispatch()
    assert [m.to[0] for m in mailoutbox] == [other.entry.client.email]
    assert WaitlistMessage.objects.get(kind="taken").offer == other


def test_accepting_twice_returns_the_first_booking(offered):
    first = services.offer_accept(offer=offered[0])

    again = services.offer_accept(offer=offered[0])

    assert (again.outcome, again.appointment) == (services.ACCEPTED, first.appointment)
    assert Appointment.objects.filter(client=offered[0].entry.client).count() == 1


def test_an_offer_accepted_after_it_expired_is_refused(offered):
    with time_machine.travel(NOW + datetime.timedelta(minutes=61)):
        result = services.offer_accept(offer=offered[0])

    assert result.outcome == services.EXPIRED
    assert not Appointment.objects.filter(client=offered[0].entry.client).exists()
    offered[0].refresh_from_db()
    assert offered[0].state == WaitlistOffer.State.EXPIRED


def test_expired_offers_pass_the_time_to_the_next_in_line(offered, parlor):
    third = waiting(parlor)

    with time_machine.travel(NOW + datetime.timedelta(minutes=61)):
        outcome = matching.waitlist_scan()

    assert outcome["expired"] == 2
    (offer,) = offers(state=WaitlistOffer.State.OPEN)
    assert (offer.entry, offer.slot.starts_at) == (third, STARTS[1])


def test_a_declined_offer_passes_the_time_on_and_never_comes_back(offered, parlor):
    third = waiting(parlor)
    assert services.offer_decline(offer=offered[0]) is True

    matching.waitlist_scan()

    assert [o.entry for o in offers(state=WaitlistOffer.State.OPEN)] == [offered[1].entry, third]
    assert not offers(entry=offered[0].entry, state=WaitlistOffer.State.OPEN)


def test_a_time_booked_at_the_desk_closes_the_offers_and_tells_the_clients(offered, parlor, mailoutbox):
    mailoutbox.clear()
    AppointmentFactory(massage_type=parlor.massage_type, masseur=parlor.masseur, room=parlor.room, starts_at=STARTS[1])

    assert services.offer_accept(offer=offered[0]).outcome == services.TAKEN

    assert WaitlistSlot.objects.get().state == WaitlistSlot.State.CLOSED
    assert {o.state for o in offers()} == {WaitlistOffer.State.TAKEN}
    outbox.dispatch()
    assert len(mailoutbox) == 2


def test_an_offer_the_screening_no_longer_allows_books_nothing_and_the_desk_calls(offered):
    screen(offered[0].entry.client, "oncology")

    result = services.offer_accept(offer=offered[0])

    assert result.outcome == services.REFUSED
    assert not Appointment.objects.filter(client=offered[0].entry.client).exists()
    assert CallRequest.objects.get().reason == CallRequest.Reason.OFFER_REFUSED


def test_leaving_the_list_withdraws_the_open_offer(offered):
    entry = offered[0].entry
    services.entry_cancel(entry=entry, client=entry.client)

    offered[0].refresh_from_db()
    assert offered[0].state == WaitlistOffer.State.WITHDRAWN
    assert services.offer_accept(offer=offered[0]).outcome == services.GONE


def test_entries_past_their_date_leave_the_list(parlor):
    entry = waiting(parlor, until=NOW.date())

    with time_machine.travel(NOW + datetime.timedelta(days=1)):
        assert matching.waitlist_scan()["entries_expired"] == 1

    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.EXPIRED


# --- the emails -----------------------------------------------------------------------------------


def test_the_offer_email_in_the_clients_language_names_no_finding(full, parlor, receptionist, mailoutbox):
    client = ClientFactory(language="en", full_name="Emily Clarke")
    screen(client, "high-blood-pressure")
    waiting(parlor, client=client, screened=False)
    cancel(full[0], receptionist)

    matching.waitlist_scan()

    (email,) = mailoutbox
    offer = WaitlistOffer.objects.get()
    assert email.subject == "A time has become free: 2 February 2027 at 09:00"
    assert "Dear Emily," in email.body
    assert links.offer_url(offer) in email.body
    assert not any(name in email.body for name in condition_names("high-blood-pressure"))
    assert "neck down" not in email.body


def test_an_offer_closed_before_its_email_went_is_skipped(full, parlor, receptionist, monkeypatch, mailoutbox):
    monkeypatch.setattr(outbox, "dispatch", lambda **kwargs: {})
    waiting(parlor)
    cancel(full[0], receptionist)
    matching.waitlist_scan()
    WaitlistOffer.objects.update(state=WaitlistOffer.State.WITHDRAWN)
    monkeypatch.undo()

    outbox.dispatch()

    assert WaitlistMessage.objects.get().state == WaitlistMessage.State.SKIPPED
    assert mailoutbox == []


def test_a_message_is_sent_once_even_if_two_senders_try(full, parlor, receptionist, monkeypatch, mailoutbox):
    monkeypatch.setattr(outbox, "dispatch", lambda **kwargs: {})
    waiting(parlor)
    cancel(full[0], receptionist)
    matching.waitlist_scan()
    monkeypatch.undo()
    message = WaitlistMessage.objects.get()

    assert outbox.send_one(message.pk) == "sent"
    assert outbox.send_one(message.pk) == "not claimed"
    assert len(mailoutbox) == 1


def test_a_mail_server_that_is_away_is_tried_again(full, parlor, receptionist, monkeypatch):
    import smtplib

    monkeypatch.setattr(outbox, "dispatch", lambda **kwargs: {})
    waiting(parlor)
    cancel(full[0], receptionist)
    matching.waitlist_scan()
    monkeypatch.undo()
    message = WaitlistMessage.objects.get()

    def down(self):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.message.EmailMessage.send", down)
    assert outbox.send_one(message.pk) == "due"
    message.refresh_from_db()
    assert (message.attempts, message.state) == (1, WaitlistMessage.State.DUE)


# --- freed times ask for a scan -------------------------------------------------------------------


@pytest.fixture
def heard(monkeypatch):
    calls = []
    monkeypatch.setattr(freed, "_listeners", [tasks_waitlist.scan_when_freed])
    monkeypatch.setattr(tasks_waitlist, "_queue", calls.append)
    return calls


def test_a_cancellation_asks_for_a_scan_after_the_commit(full, receptionist, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel(full[0], receptionist)

    assert heard == [tasks_waitlist.waitlist_scan]


def test_a_move_tells_the_old_time_and_a_no_show_the_rest_of_its_time(
    full, receptionist, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setattr(freed, "_listeners", [told.append])
    later = NINE + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        booking.appointment_move(appointment=full[0], starts_at=later, moved_by=receptionist)
    marked = STARTS[2] + datetime.timedelta(minutes=5)
    with time_machine.travel(marked, tick=False), django_capture_on_commit_callbacks(execute=True):
        booking.appointment_mark_no_show(appointment=full[2], by=receptionist)

    assert [(t.why, t.starts_at) for t in told] == [
        ("moved", STARTS[0]),
        ("no_show", STARTS[2] + datetime.timedelta(minutes=5)),
    ]


def test_a_failing_listener_never_undoes_the_cancellation(
    full, receptionist, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(time):
        raise RuntimeError("redis away")

    monkeypatch.setattr(freed, "_listeners", [broken])
    with django_capture_on_commit_callbacks(execute=True):
        cancel(full[0], receptionist)

    full[0].refresh_from_db()
    assert full[0].status == Appointment.Status.CANCELLED


def test_a_broker_that_is_down_is_only_logged(monkeypatch, caplog):
    monkeypatch.setattr(tasks_waitlist, "_queue", REAL_QUEUE)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("no redis")

    monkeypatch.setattr(tasks_waitlist.waitlist_scan.app, "connection_for_write", down)
    tasks_waitlist.queue_scan()

    assert "sessions.waitlist_scan not queued (no redis); the next scan does it" in caplog.text


# --- the pages ------------------------------------------------------------------------------------


def test_the_offer_link_shows_on_get_and_books_on_post(offered):
    offer = offered[0]
    url = reverse("online:offer", args=[links.offer_token(offer)])
    http = HttpClient()

    page = http.get(url)
    assert page.status_code == 200
    assert 'data-testid="offer-accept"' in page.content.decode()
    assert not Appointment.objects.filter(client=offer.entry.client).exists()

    response = http.post(url, {"action": "accept"})

    assert 'data-testid="offer-accepted"' in response.content.decode()
    assert Appointment.objects.filter(client=offer.entry.client, status="booked").count() == 1
    other = reverse("online:offer", args=[links.offer_token(offered[1])])
    assert 'data-testid="offer-taken"' in http.post(other, {"action": "accept"}).content.decode()


def test_a_tampered_offer_link_is_refused(client):
    assert client.get(reverse("online:offer", args=["nonsense:token"])).status_code == 400


def test_a_signed_in_client_joins_and_leaves_the_list(parlor, known):
    from tests.sessions.online.conftest import signed_in

    http = signed_in(known)
    response = http.post(
        reverse("online:waitlist-join"),
        {"massage_type": parlor.massage_type.pk, "weekdays": ["1", "3"], "windows": ["evening"], "until": "2027-02-20"},
    )

    entry = WaitlistEntry.objects.get(client=known)
    assert response["Location"] == reverse("online:my")
    assert (entry.weekdays, entry.windows, entry.created_by) == ([1, 3], ["evening"], None)
    http.post(reverse("online:waitlist-leave", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.CANCELLED


def test_the_front_desk_puts_a_client_on_the_list_from_the_card(parlor, known, reception_client, masseur_client):
    url = reverse("sessions:waitlist-add", args=[known.pk])
    assert masseur_client.get(url).status_code == 403
    page = reception_client.get(known.get_absolute_url()).content.decode()
    assert url in page
    assert "priority" not in reception_client.get(url).context["form"].fields

    response = reception_client.post(url, {"massage_type": parlor.massage_type.pk, "until": "2027-02-20"})

    assert response["Location"] == known.get_absolute_url()
    entry = WaitlistEntry.objects.get()
    assert (entry.client, entry.priority, entry.created_by.username) == (known, False, "desk")


def test_only_a_manager_puts_a_client_first(parlor, known, manager, receptionist):
    entry = waiting(parlor, client=known, screened=False)
    with pytest.raises(PermissionDenied):
        services.entry_prioritise(entry=entry, priority=True, by=receptionist)
    with pytest.raises(PermissionDenied):
        services.entry_add(
            client=known, massage_type=parlor.massage_type, until=TUESDAY, priority=True, created_by=receptionist
        )

    assert services.entry_prioritise(entry=entry, priority=True, by=manager).priority is True


def test_offers_need_an_email(parlor):
    with pytest.raises(ValidationError) as error:
        services.entry_add(client=ClientFactory(email=""), massage_type=parlor.massage_type, until=TUESDAY)

    assert error.value.messages == ["Offers go by email: the client needs an email address on record."]


def test_the_dashboard_shows_the_list_the_offers_and_the_week(offered, parlor, reception_client):
    services.offer_accept(offer=offered[0])
    waiting(parlor)

    page = reception_client.get("/").content.decode()

    assert 'data-testid="waitlist-panel"' in page
    assert "This week: 1 of 1 freed times filled from the list" in page
    board = selectors.board()
    # The one who was told "taken" still waits, with the one added since.
    assert (board.waiting_count, board.filled_this_week, board.offered_this_week) == (2, 1, 1)


@pytest.mark.parametrize("count", [1, 12])
def test_the_board_takes_four_queries_whatever_the_sizes(full, parlor, receptionist, count, django_assert_num_queries):
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"offers_at_once": 10})
    for _ in range(count):
        waiting(parlor)
    cancel(full[0], receptionist)
    matching.waitlist_scan()

    with django_assert_num_queries(4):
        board = selectors.board()
        [(o.entry.client.full_name, o.slot.masseur.display_name, o.slot.massage_type.name) for o in board.in_flight]
        [(e.client.full_name, e.massage_type.name, e.masseur) for e in board.waiting]

    assert board.waiting_count == count


# --- the client's rights --------------------------------------------------------------------------


def test_the_export_has_the_entries_and_the_erasure_takes_them(offered, manager):
    from clients.erasure import client_erase
    from clients.export import Section  # noqa: F401 - the export's own type
    from sessions.waitlist import privacy

    client = offered[0].entry.client
    sections = {s.key: s for s in privacy.export_sections(client)}
    assert len(sections["waitlist"].rows) == 1
    assert len(sections["waitlist_offers"].rows) == 1

    client_erase(client=client, reason="asked", keep_clinical_notes=False, erased_by=manager)

    assert not WaitlistEntry.objects.filter(client=client).exists()
    from django.apps import apps

    assert not apps.get_model("treatments", "WaitlistEntryEvent").objects.filter(client_id=client.pk).exists()


def test_the_offer_url_carries_no_personal_data(offered):
    token = links.offer_token(offered[0])

    assert offered[0].entry.client.email not in token
    assert re.fullmatch(r"[\w\-:.]+", token)
