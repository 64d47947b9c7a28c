"""The public booking pages through the test client: choosing, signing in by link or code, the profile,
the hold, the questionnaire and the screening's say; "My appointments"; and what the pages never say."""

import datetime
import re

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import Client
from screening.models import Screening
from sessions.models import Appointment, CallRequest, ReminderPolicy, SignIn
from sessions.online import choices, signin, visitor
from tests.sessions.online.conftest import NINE, NOW, TUESDAY, condition_names, screen, signed_in

pytestmark = pytest.mark.django_db
BOOK = reverse("online:book")


def choose_url(parlor, starts_at=NINE, masseur=None) -> str:
    choice = choices.Choice(choices.SINGLE, parlor.massage_type, masseur, starts_at)
    return reverse("online:choose") + "?" + choice.query()


def link_from(message) -> str:
    return re.search(r"http://[^\s\"]+/book/sign-in/[^\s\"/]+/", message.body).group(0)


def code_from(message) -> str:
    return re.search(r"\b(\d{6})\b", message.subject).group(1)


def ask_for_link(http, parlor, email="oksana@example.com", **extra):
    return http.post(choose_url(parlor), {"email": email, "phone": "067 555 1234", **extra})


# --- choosing -------------------------------------------------------------------------------------


def test_the_booking_page_lists_types_with_length_and_price_for_anyone(client, parlor):
    response = client.get(BOOK)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Back massage · 40 min · 600 UAH" in page


def test_the_free_times_of_a_day_link_to_the_choice(client, parlor):
    response = client.get(BOOK, {"massage_type": parlor.massage_type.pk, "day": TUESDAY.isoformat()})

    page = response.content.decode()
    assert [t.local.strftime("%H:%M") for t, _c in response.context["times"]] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
    ]
    assert choose_url(parlor).replace("&", "&amp;") in page


def test_a_full_day_offers_the_waiting_list(client, parlor):
    from tests.factories import TimeOffFactory

    TimeOffFactory(
        masseur=parlor.masseur, starts_at=NINE - datetime.timedelta(hours=2), ends_at=NINE + datetime.timedelta(days=1)
    )

    response = client.get(BOOK, {"massage_type": parlor.massage_type.pk, "day": TUESDAY.isoformat()})

    assert response.context["times"] == []
    assert 'data-testid="join-waitlist"' in response.content.decode()


def test_a_course_shows_its_proposal_first(client, parlor):
    response = client.get(BOOK, {"massage_type": parlor.massage_type.pk, "day": TUESDAY.isoformat(), "kind": "course"})

    assert len(response.context["proposal"]) == 5
    assert response.context["course_choice"].query() in response.content.decode().replace("&amp;", "&")


@pytest.mark.parametrize("day", ["2026-01-01", "2030-01-01", "not a day", "\u202e"])
def test_a_day_out_of_range_is_said_beside_the_field(client, parlor, day):
    response = client.get(BOOK, {"massage_type": parlor.massage_type.pk, "day": day})

    assert response.status_code == 200
    assert response.context["form"].errors["day"]
    assert response.context["form"]["day"].value() == day


@pytest.mark.parametrize("query", ["", "type=x", "type=1&at=2027-02-02T07:00Z&masseur=abc", "at=9999-99-99"])
def test_a_choice_that_is_not_one_says_so(client, parlor, query):
    response = client.get(reverse("online:choose") + "?" + query)

    assert response.status_code == 200
    assert response.context["choice"] is None


def test_the_chosen_time_asks_for_an_email(client, parlor):
    response = client.get(choose_url(parlor))

    page = response.content.decode()
    assert 'name="email"' in page and 'name="phone"' in page and 'name="website"' in page
    assert response.context["taken"] is False


def test_a_time_taken_meanwhile_shows_the_next_free_times(client, parlor):
    from tests.sessions.factories import AppointmentFactory

    AppointmentFactory(massage_type=parlor.massage_type, masseur=parlor.masseur, room=parlor.room, starts_at=NINE)

    response = client.get(choose_url(parlor))

    assert response.context["taken"] is True
    assert [t.local.strftime("%H:%M") for t, _c in response.context["next_times"]][:2] == ["10:00", "10:30"]


# --- signing in: the same answer for everyone -----------------------------------------------------


def _answer(http, parlor, email, **extra):
    response = ask_for_link(http, parlor, email=email, **extra)
    page = http.get(response["Location"])
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())
    return response.status_code, response["Location"], text.replace(email, "EMAIL")


def test_the_answer_does_not_tell_a_known_email_from_an_unknown_one(parlor, known, mailoutbox):
    known_answer = _answer(HttpClient(), parlor, "oksana@example.com")
    unknown_answer = _answer(HttpClient(), parlor, "nobody@example.com")

    assert known_answer == unknown_answer
    assert known_answer[:2] == (302, reverse("online:sign-in"))
    # Both got an email: the difference is only inside the mailbox of the address's owner.
    assert [m.to for m in mailoutbox] == [["oksana@example.com"], ["nobody@example.com"]]


def test_a_throttled_or_honeypot_request_gets_the_same_answer_and_no_email(parlor, known, mailoutbox):
    from sessions.models import OnlinePolicy

    OnlinePolicy.objects.update_or_create(pk=1, defaults={"sign_ins_per_email": 1})
    first = _answer(HttpClient(), parlor, "oksana@example.com")
    throttled = _answer(HttpClient(), parlor, "oksana@example.com")
    bot = _answer(HttpClient(), parlor, "oksana@example.com", website="http://spam.example")

    assert first == throttled == bot
    assert len(mailoutbox) == 1
    assert SignIn.objects.count() == 1


def test_the_throttle_counts_per_network_address_too(parlor, mailoutbox):
    from sessions.models import OnlinePolicy

    OnlinePolicy.objects.update_or_create(pk=1, defaults={"sign_ins_per_network_address": 2})
    for number in range(3):
        ask_for_link(HttpClient(REMOTE_ADDR="10.0.0.7"), parlor, email=f"someone{number}@example.com")
    ask_for_link(HttpClient(REMOTE_ADDR="10.0.0.8"), parlor, email="other@example.com")

    assert [m.to[0] for m in mailoutbox] == ["someone0@example.com", "someone1@example.com", "other@example.com"]


def test_the_throttle_forgets_after_an_hour(parlor, mailoutbox):
    from sessions.models import OnlinePolicy

    OnlinePolicy.objects.update_or_create(pk=1, defaults={"sign_ins_per_email": 1})
    ask_for_link(HttpClient(), parlor)
    with time_machine.travel(NOW + datetime.timedelta(minutes=61)):
        ask_for_link(HttpClient(), parlor)

    assert len(mailoutbox) == 2


def test_the_email_speaks_a_known_clients_language_and_an_unknown_one_the_pages(parlor, known, mailoutbox):
    ask_for_link(HttpClient(), parlor, email="OKSANA@example.com ")
    english = HttpClient(HTTP_ACCEPT_LANGUAGE="en")
    ask_for_link(english, parlor, email="new@example.com")

    to_known, to_new = mailoutbox
    assert to_known.to == ["oksana@example.com"]
    assert "Шановна Оксано Петрівно," in to_known.body
    assert to_new.body.startswith("Hello,")
    assert "Oksana" not in to_new.body and "Оксан" not in to_new.body


def test_the_link_signs_in_once_and_its_get_spends_nothing(parlor, known, mailoutbox):
    screen(known)
    ask_for_link(HttpClient(), parlor)
    url = link_from(mailoutbox[0])
    scanner, browser = HttpClient(), HttpClient()

    assert scanner.get(url).status_code == 200  # a mail scanner opens it
    response = browser.post(url)

    # Signed in, the chosen time is held at once, even in another browser than the one that asked.
    assert response["Location"] == reverse("online:reservation")
    assert Appointment.objects.get().status == Appointment.Status.RESERVED
    assert HttpClient().post(url).status_code == 410
    assert HttpClient().get(url).status_code == 410


def test_an_old_link_or_a_tampered_one_signs_nobody_in(parlor, known, mailoutbox):
    ask_for_link(HttpClient(), parlor)
    url = link_from(mailoutbox[0])

    assert HttpClient().post(url[:-3] + "xx/").status_code == 400
    with time_machine.travel(NOW + datetime.timedelta(minutes=16)):
        assert HttpClient().post(url).status_code == 410
    assert visitor._KEY not in HttpClient().session


def test_the_code_signs_in_the_browser_that_asked(parlor, known, mailoutbox):
    screen(known)
    http = HttpClient()
    ask_for_link(http, parlor)

    wrong = http.post(reverse("online:sign-in"), {"code": "000000" if code_from(mailoutbox[0]) != "000000" else "1"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["code"] == [
        "This code is not right. Check the latest email and type its six digits."
    ]
    response = http.post(reverse("online:sign-in"), {"code": code_from(mailoutbox[0])})

    assert response["Location"] == reverse("online:reservation")
    assert http.post(reverse("online:sign-in"), {"code": code_from(mailoutbox[0])}).context["form"].errors


def test_five_wrong_codes_kill_the_code(parlor, known, mailoutbox):
    http = HttpClient()
    ask_for_link(http, parlor)
    right = code_from(mailoutbox[0])
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(signin.MAX_WRONG_CODES):
        http.post(reverse("online:sign-in"), {"code": wrong})

    response = http.post(reverse("online:sign-in"), {"code": right})

    assert response.context["form"].errors["code"] == ["This code can no longer be used. Ask for a new email."]


def test_sign_in_rows_hold_no_address_in_clear(parlor, known, mailoutbox):
    ask_for_link(HttpClient(REMOTE_ADDR="10.1.2.3"), parlor)

    row = SignIn.objects.values().get()
    assert "oksana" not in str(row) and "10.1.2.3" not in str(row)


# --- a new client ---------------------------------------------------------------------------------


def profile_data(**overrides):
    data = {
        "full_name": "Марія Нова",
        "phone": "067 555 1234",
        "birth_date": "1990-04-02",
        "sex": "female",
        "language": "uk",
        "data_consent": "on",
        "reminder_consent": "on",
    }
    return data | overrides


def test_a_new_email_makes_a_profile_then_holds_the_time(parlor, mailoutbox):
    http = HttpClient()
    ask_for_link(http, parlor, email="maria@example.com")
    response = http.post(link_from(mailoutbox[0]))
    assert response["Location"] == reverse("online:profile")
    form = http.get(reverse("online:profile")).context["form"]
    assert form.initial["phone"] == "+380675551234"

    response = http.post(reverse("online:profile"), profile_data())

    client = Client.objects.get(email="maria@example.com")
    assert (client.full_name, str(client.phone), client.created_by) == ("Марія Нова", "+380675551234", None)
    assert client.data_consent_at is not None and client.reminder_consent
    assert response["Location"] == reverse("online:reservation")
    assert Appointment.objects.get().client == client


def test_the_profile_needs_the_consent_and_keeps_what_was_typed(parlor):
    http = signed_in_new(parlor)

    response = http.post(reverse("online:profile"), profile_data(data_consent=""))

    assert response.status_code == 200
    assert response.context["form"].errors["data_consent"] == [
        "We can book only with your consent to the processing of your data."
    ]
    assert response.context["form"]["full_name"].value() == "Марія Нова"
    assert not Client.objects.exists()


def test_a_minor_needs_a_guardian(parlor):
    http = signed_in_new(parlor)

    response = http.post(reverse("online:profile"), profile_data(birth_date="2015-01-01"))

    assert "guardian_name" in response.context["form"].errors
    assert not Client.objects.exists()


def test_a_phone_on_record_under_another_email_is_said_kindly(parlor, known):
    http = signed_in_new(parlor)

    response = http.post(reverse("online:profile"), profile_data(phone=str(known.phone)))

    assert response.context["form"].errors["phone"] == [
        "This phone is already on record with us under another email. Call us, or leave it out and we will call."
    ]


def signed_in_new(parlor, email="maria@example.com"):
    http = HttpClient()
    session = http.session
    session[visitor._KEY] = {"email": email, "client": None, "at": int(NOW.timestamp())}
    session.save()
    return http


# --- the hold, the questionnaire and the screening's say -----------------------------------------


def hold_for(client, parlor):
    http = signed_in(client)
    response = http.post(choose_url(parlor))
    assert response["Location"] == reverse("online:reservation"), response
    return http


def test_no_screening_leads_to_the_questionnaire_unanswered(parlor, known):
    http = hold_for(known, parlor)

    page = http.get(reverse("online:reservation")).content.decode()
    assert 'data-testid="to-questionnaire"' in page
    form = http.get(reverse("online:questionnaire")).context["form"]
    assert not any(form[name].value() for name in form.fields if name.startswith("q_"))


def answers(form, yes=()):
    data = {"submission_key": form.initial["submission_key"]}
    for name in form.fields:
        if name.startswith("q_"):
            data[name] = "yes" if name.removeprefix("q_") in yes else "no"
    return data


def test_the_questionnaire_records_a_self_report_then_the_booking_is_confirmed(parlor, known):
    http = hold_for(known, parlor)
    form = http.get(reverse("online:questionnaire")).context["form"]

    response = http.post(reverse("online:questionnaire"), answers(form))

    assert response["Location"] == reverse("online:reservation")
    assert Screening.objects.get(client=known).source == Screening.Source.SELF_REPORTED
    response = http.post(reverse("online:reservation"), {"action": "confirm"})
    assert response["Location"] == reverse("online:my")
    assert Appointment.objects.get().status == Appointment.Status.BOOKED
    # Answered once: the page does not ask again.
    assert http.get(reverse("online:questionnaire"))["Location"] == reverse("online:reservation")


def test_a_blocked_client_is_told_kindly_and_the_page_names_nothing(parlor, known):
    http = hold_for(known, parlor)
    form = http.get(reverse("online:questionnaire")).context["form"]
    http.post(reverse("online:questionnaire"), answers(form, yes=["oncology"]))

    response = http.post(reverse("online:reservation"), {"action": "confirm"})

    assert response["Location"] == reverse("online:call-back")
    page = http.get(reverse("online:call-back")).content.decode()
    assert "The parlor will call you at +380" in page
    assert not any(name in page for name in condition_names("oncology"))
    assert Appointment.objects.count() == 0
    assert CallRequest.objects.filter(client=known).count() == 1


def test_no_online_page_names_a_finding(parlor, known):
    screen(known, "skin-disease", "high-blood-pressure")
    http = hold_for(known, parlor)
    pages = [http.get(reverse("online:reservation")).content.decode()]
    http.post(reverse("online:reservation"), {"action": "confirm"})
    appointment = Appointment.objects.get()
    for name in ("online:my", "online:book"):
        pages.append(http.get(reverse(name)).content.decode())
    pages.append(http.get(reverse("online:my-move", args=[appointment.pk])).content.decode())

    names = condition_names("skin-disease", "high-blood-pressure")
    assert not [name for page in pages for name in names if name in page]
    assert "neck down" not in " ".join(pages)  # the adaptation is the masseur's
    assert 'data-testid="bring-note"' in pages[1]


def test_giving_the_time_up_frees_it(parlor, known):
    http = hold_for(known, parlor)

    response = http.post(reverse("online:reservation"), {"action": "release"})

    assert response["Location"] == BOOK
    assert Appointment.objects.count() == 0


def test_a_confirmation_after_ten_minutes_says_so(parlor, known):
    screen(known)
    http = hold_for(known, parlor)

    with time_machine.travel(NOW + datetime.timedelta(minutes=11)):
        response = http.post(reverse("online:reservation"), {"action": "confirm"}, follow=True)

    assert "Ten minutes have passed and the time was freed." in response.content.decode()
    assert Appointment.objects.count() == 0


def test_the_client_pages_send_strangers_to_the_booking_page(client, parlor):
    for name in ("online:reservation", "online:questionnaire", "online:my", "online:call-back"):
        assert client.get(reverse(name))["Location"] == BOOK, name


# --- my appointments ------------------------------------------------------------------------------


@pytest.fixture
def booked(parlor, known):
    screen(known)
    http = hold_for(known, parlor)
    http.post(reverse("online:reservation"), {"action": "confirm"})
    return http, Appointment.objects.get()


def test_my_appointments_lists_mine_only(booked, parlor):
    http, appointment = booked
    from tests.sessions.factories import AppointmentFactory

    other = AppointmentFactory(massage_type=parlor.massage_type, starts_at=NINE + datetime.timedelta(days=1))

    response = http.get(reverse("online:my"))

    assert [row["appointment"] for row in response.context["upcoming"]] == [appointment]
    assert http.post(reverse("online:my-cancel", args=[other.pk])).status_code == 404
    assert http.get(reverse("online:my-calendar", args=[other.pk])).status_code == 404


def test_the_calendar_file_of_my_appointment(booked):
    http, appointment = booked

    response = http.get(reverse("online:my-calendar", args=[appointment.pk]))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f"UID:appointment-{appointment.pk}@parlor" in response.content.decode()


def test_cancelling_from_my_appointments(booked):
    http, appointment = booked

    response = http.post(reverse("online:my-cancel", args=[appointment.pk]), follow=True)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert "Your appointment is cancelled." in response.content.decode()


def test_moving_from_my_appointments(booked):
    http, appointment = booked
    page = http.get(reverse("online:my-move", args=[appointment.pk]), {"day": TUESDAY.isoformat()})
    assert NINE not in [t.starts_at for t in page.context["times"]]

    response = http.post(reverse("online:my-move", args=[appointment.pk]), {"starts_at": "2027-02-02T10:00:00+00:00"})

    appointment.refresh_from_db()
    assert response["Location"] == reverse("online:my")
    assert appointment.starts_at == datetime.datetime(2027, 2, 2, 10, 0, tzinfo=datetime.UTC)


def test_past_the_cutoff_my_appointments_offers_only_a_call(booked):
    from sessions.models import ReminderPolicy

    http, appointment = booked
    ReminderPolicy.objects.update_or_create(pk=1, defaults={"cancel_cutoff_hours": 48})

    page = http.get(reverse("online:my")).content.decode()

    assert 'data-testid="my-cancel"' not in page
    assert "To change it now, please call us." in page
    http.post(reverse("online:my-cancel", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_signing_out(booked):
    http, _appointment = booked

    http.post(reverse("online:sign-out"))

    assert http.get(reverse("online:my"))["Location"] == BOOK


@pytest.mark.parametrize("count", [1, 12])
def test_my_appointments_takes_the_same_queries_whatever_the_count(parlor, known, count, django_assert_max_num_queries):
    from tests.sessions.factories import AppointmentFactory

    for day in range(count):
        AppointmentFactory(
            client=known,
            massage_type=parlor.massage_type,
            masseur=parlor.masseur,
            room=parlor.room,
            starts_at=NINE + datetime.timedelta(days=day),
        )
    ReminderPolicy.current()
    http = signed_in(known)
    # Session, the client, the reminder policy, upcoming, past, waiting list.
    with django_assert_max_num_queries(6):
        response = http.get(reverse("online:my"))
    assert len(response.context["upcoming"]) == count


@pytest.mark.parametrize("masseurs", [1, 6])
def test_the_booking_page_takes_the_same_queries_whatever_the_staff(db, now, masseurs, django_assert_max_num_queries):
    from tests.sessions.online.conftest import make_parlor

    parlor = make_parlor(masseurs=masseurs)
    # Session, the types (form and check), the masseurs, availability's four.
    with django_assert_max_num_queries(9):
        response = HttpClient().get(BOOK, {"massage_type": parlor.massage_type.pk, "day": TUESDAY.isoformat()})
    assert len(response.context["times"]) == 7


def test_the_staff_settings_page_is_the_managers(manager_client, reception_client):
    assert reception_client.get(reverse("online:policy")).status_code == 403
    response = manager_client.post(
        reverse("online:policy"),
        {
            "max_unconfirmed": "3",
            "sign_ins_per_email": "4",
            "sign_ins_per_network_address": "30",
            "offer_minutes": "60",
            "offers_at_once": "2",
            "offer_notice_minutes": "90",
            "waitlist_horizon_days": "7",
        },
    )
    from sessions.models import OnlinePolicy

    assert response.status_code == 302
    assert OnlinePolicy.current().max_unconfirmed == 3
    bad = manager_client.post(reverse("online:policy"), {"max_unconfirmed": "0"})
    assert bad.context["form"].errors["max_unconfirmed"]


def test_reception_marks_a_call_made_from_the_dashboard(parlor, known, reception_client):
    call = CallRequest.objects.create(
        client=known, reason=CallRequest.Reason.SCREENING_BLOCKS, massage_type=parlor.massage_type, wanted_at=NINE
    )
    page = reception_client.get("/").content.decode()
    assert 'data-testid="calls-panel"' in page
    assert "The screening does not allow booking online: call the client." in page

    reception_client.post(reverse("online:call-done", args=[call.pk]))

    call.refresh_from_db()
    assert call.done_at is not None
    assert 'data-testid="calls-panel"' not in reception_client.get("/").content.decode()
