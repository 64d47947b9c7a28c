"""No public page or email names a finding: client A, signed in online, opens every page of online booking
and the waiting list, and gets every email they send; none holds a clinical text of A (or B), A's
adaptations or the names of A's conditions. The masseur still sees the adaptations."""

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone, translation

from sessions.models import Appointment, CallRequest, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.online import choices, services, signin, visitor
from sessions.reminders import outbox, planning
from sessions.waitlist import links
from sessions.waitlist import outbox as waitlist_outbox
from tests.privacy_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _forbidden(world) -> list[str]:
    return world.a.markers + world.a.adaptations + world.a.condition_names + world.b.markers


def _offer(world) -> WaitlistOffer:
    a = world.a
    entry = WaitlistEntry.objects.create(
        client=a.client, massage_type=a.upcoming.massage_type, until=a.upcoming.starts_at.date()
    )
    later = datetime.timedelta(days=3)
    slot = WaitlistSlot.objects.create(
        massage_type=a.upcoming.massage_type,
        masseur=a.upcoming.masseur,
        room=a.upcoming.room,
        starts_at=a.upcoming.starts_at + later,
        ends_at=a.upcoming.ends_at + later,
        blocks_until=a.upcoming.blocks_until + later,
    )
    return WaitlistOffer.objects.create(entry=entry, slot=slot, expires_at=slot.starts_at - datetime.timedelta(hours=2))


@pytest.mark.parametrize("language", ["uk", "en"])
def test_no_online_page_shows_a_clinical_text_to_the_client_or_anyone(world, settings, language):
    settings.LANGUAGE_CODE = language
    a = world.a
    offer = _offer(world)
    http = HttpClient()
    session = http.session
    session[visitor._KEY] = {"email": a.client.email, "client": a.client.pk, "at": int(timezone.now().timestamp())}
    session.save()
    choice = choices.Choice(
        choices.SINGLE, a.upcoming.massage_type, None, a.upcoming.starts_at + datetime.timedelta(days=1)
    )
    urls = [
        reverse("online:book"),
        reverse("online:book") + f"?massage_type={a.upcoming.massage_type.pk}&day={a.upcoming.starts_at.date()}",
        reverse("online:choose") + "?" + choice.query(),
        reverse("online:sign-in"),
        reverse("online:my"),
        reverse("online:my-move", args=[a.upcoming.pk]),
        reverse("online:reservation"),
        reverse("online:call-back"),
        reverse("online:waitlist-join"),
        reverse("online:offer", args=[links.offer_token(offer)]),
    ]
    shown = {}
    for url in urls:
        for browser in (http, HttpClient()):
            response = browser.get(url)
            assert response.status_code in (200, 302), url
            page = response.content.decode()
            found = [text for text in _forbidden(world) if text in page]
            if found:
                shown[url] = found
    assert shown == {}


def test_no_email_of_online_booking_or_the_waiting_list_names_a_finding(world, mailoutbox, settings):
    a = world.a
    # A sign-in email, the "booked" email, an offer, "it was taken", and the front desk's call.
    signin.sign_in_request(email=a.client.email, address="10.0.0.1", language="uk")
    booked = planning.plan_booked_by_client(a.upcoming)[0]
    outbox.send_one(booked.pk)
    offer = _offer(world)
    for kind in ("offer", "taken"):
        message = waitlist_outbox.message_due(offer, kind, timezone.now())
        waitlist_outbox.send_one(message.pk)
    call = services.call_request_create(
        client=a.client,
        reason=CallRequest.Reason.SCREENING_BLOCKS,
        massage_type=a.upcoming.massage_type,
        wanted_at=a.upcoming.starts_at,
    )
    services.call_notice_send(call_id=call.pk)

    assert len(mailoutbox) == 5
    for email in mailoutbox:
        text = email.subject + email.body + "".join(content for content, _type in email.alternatives)
        assert [t for t in _forbidden(world) if t in text] == [], email.subject


def test_the_masseur_still_sees_the_adaptation_of_a_client_who_booked_online(world):
    from tests.conftest import login_as

    a = world.a
    Appointment.objects.filter(pk=a.upcoming.pk).update(channel=Appointment.Channel.ONLINE)
    with translation.override("en"):
        page = login_as(HttpClient(), world.masseur_booked).get(
            reverse("sessions:appointment-review", args=[a.upcoming.pk])
        )
    assert "no percussion over the kidneys" in page.content.decode()
