"""Races, with real threads each on its own connection: twenty clients holding the last time online at
once, two waiting clients accepting one offered time at once."""

import datetime

import pytest

from sessions.models import Appointment, OnlinePolicy, WaitlistMessage, WaitlistOffer, WaitlistSlot
from sessions.online import selectors, services
from sessions.waitlist import matching
from sessions.waitlist import services as waitlist
from tests.factories import ClientFactory
from tests.races import race_each
from tests.sessions.factories import AppointmentFactory
from tests.sessions.online.conftest import NINE, TUESDAY, make_parlor, screen

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_clients_holding_the_last_time_at_once_one_gets_it(seeded_db, now):
    parlor = make_parlor()
    # Tuesday morning full but for 12:00 Kyiv.
    for hour in range(3):
        AppointmentFactory(
            massage_type=parlor.massage_type,
            masseur=parlor.masseur,
            room=parlor.room,
            starts_at=NINE + datetime.timedelta(hours=hour),
        )
    last = NINE + datetime.timedelta(hours=3)
    assert [t.starts_at for t in selectors.free_times(massage_type=parlor.massage_type, day=TUESDAY)] == [last]
    clients = ClientFactory.create_batch(20)

    results, refusals, crashes = race_each(
        20,
        lambda index: services.reservation_make(
            client=clients[index], massage_type=parlor.massage_type, starts_at=last
        ),
    )

    assert crashes == []
    assert len(results) == 1
    assert len(refusals) == 19
    assert {exc.error_dict["__all__"][0].code for exc in refusals} == {services.TAKEN}
    assert Appointment.objects.filter(starts_at=last).get().status == Appointment.Status.RESERVED
    # The others are shown the next free times: Wednesday's.
    later = selectors.next_free_times(massage_type=parlor.massage_type, after=last)
    assert later[0].starts_at == NINE + datetime.timedelta(days=1)


def test_two_waiting_clients_accepting_one_offer_at_once_one_gets_it_the_other_is_told(seeded_db, now):
    parlor = make_parlor()
    OnlinePolicy.objects.update_or_create(pk=1, defaults={"offers_at_once": 2})
    for hour in range(4):
        AppointmentFactory(
            massage_type=parlor.massage_type,
            masseur=parlor.masseur,
            room=parlor.room,
            starts_at=NINE + datetime.timedelta(hours=hour),
        )
    for _ in range(2):
        client = ClientFactory()
        screen(client)
        waitlist.entry_add(client=client, massage_type=parlor.massage_type, until=TUESDAY, weekdays=[1])
    Appointment.objects.filter(starts_at=NINE).update(status=Appointment.Status.CANCELLED)
    matching.waitlist_scan()
    offers = list(WaitlistOffer.objects.order_by("pk"))
    assert len(offers) == 2

    results, refusals, crashes = race_each(2, lambda index: waitlist.offer_accept(offer=offers[index]))

    assert crashes == [] and refusals == []
    assert sorted(result.outcome for result in results) == [waitlist.ACCEPTED, waitlist.TAKEN]
    winner = next(r for r in results if r.outcome == waitlist.ACCEPTED).offer
    loser = next(r for r in results if r.outcome == waitlist.TAKEN).offer
    assert Appointment.objects.filter(starts_at=NINE).exclude(status="cancelled").get().client == winner.entry.client
    assert WaitlistSlot.objects.get().state == WaitlistSlot.State.FILLED
    assert WaitlistOffer.objects.get(pk=loser.pk).state == WaitlistOffer.State.TAKEN
    # The other is told by email, once.
    assert list(WaitlistMessage.objects.filter(kind="taken").values_list("offer_id", flat=True)) == [loser.pk]
