"""Sessions end after SESSION_IDLE_MINUTES without a request (shared front-desk computers) and
in any case SESSION_COOKIE_AGE (12 h) after the log-in."""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from parlor.accounts.policy import SEEN_AT
from parlor.models import SecurityEvent

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2027, 2, 1, 8, 0, tzinfo=datetime.UTC)
CLIENTS = reverse("clients:client-list")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(receptionist, clock):
    client = Client()
    assert client.post("/login/", {"username": "desk", "password": "secret-pass"}).status_code == 302
    return client


def _minutes(clock, minutes):
    clock.shift(datetime.timedelta(minutes=minutes))


def test_the_defaults_are_thirty_minutes_idle_and_twelve_hours_in_all():
    assert (django_settings.SESSION_IDLE_MINUTES, django_settings.SESSION_COOKIE_AGE) == (30, 12 * 3600)


def test_a_request_within_thirty_minutes_keeps_the_session(desk, clock):
    for _ in range(6):
        _minutes(clock, 29)
        assert desk.get(CLIENTS).status_code == 200


def test_thirty_one_idle_minutes_end_the_session(desk, clock):
    _minutes(clock, 31)
    response = desk.get(CLIENTS, follow=True)

    assert response.redirect_chain == [(f"/login/?next={CLIENTS}", 302)]
    assert "You were logged out after 30 minutes without activity. Please log in again." in response.content.decode()
    assert desk.get(CLIENTS).status_code == 302
    logout = SecurityEvent.objects.get(kind="logout")
    assert (logout.username, logout.detail) == ("desk", "idle too long")


def test_the_idle_limit_comes_from_the_environment(desk, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5
    _minutes(clock, 4)
    assert desk.get(CLIENTS).status_code == 200
    _minutes(clock, 6)
    assert desk.get(CLIENTS).status_code == 302


def test_a_session_ends_twelve_hours_after_the_log_in_however_busy(desk, clock):
    for _ in range(35):  # 11 h 40 min of a request every 20 minutes
        _minutes(clock, 20)
        assert desk.get(CLIENTS).status_code == 200
    _minutes(clock, 21)
    response = desk.get(CLIENTS, follow=True)

    assert response.redirect_chain == [(f"/login/?next={CLIENTS}", 302)]
    assert "A log-in lasts at most 12 hours. Please log in again." in response.content.decode()
    assert SecurityEvent.objects.get(kind="logout").detail == "session too old"


def test_a_new_log_in_starts_both_clocks_again(desk, clock):
    _minutes(clock, 40)
    desk.get(CLIENTS)
    assert desk.post("/login/", {"username": "desk", "password": "secret-pass"}).status_code == 302
    _minutes(clock, 29)
    assert desk.get(CLIENTS).status_code == 200


def test_the_last_request_time_is_written_at_most_once_a_minute(desk, clock):
    desk.get(CLIENTS)
    first = desk.session[SEEN_AT]
    clock.shift(datetime.timedelta(seconds=50))
    desk.get(CLIENTS)
    assert desk.session[SEEN_AT] == first
    clock.shift(datetime.timedelta(seconds=15))
    desk.get(CLIENTS)
    assert desk.session[SEEN_AT] == first + 65
