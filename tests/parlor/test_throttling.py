"""Log-in throttling (django-axes): a username from one address is paused after repeated
failures, nobody else is, and the address is the client's even behind the reverse proxy."""

import datetime

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from parlor import roles
from parlor.net import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
NOW = datetime.datetime(2027, 2, 1, 10, 0, tzinfo=datetime.UTC)


def _try(client, username, password, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def test_thirty_wrong_passwords_then_the_right_one_is_refused(receptionist):
    client = Client()
    statuses = [_try(client, "desk", f"guess-{n}").status_code for n in range(30)]
    right = _try(client, "desk", "secret-pass")

    # Five failures are answered as usual, the fifth already with the pause.
    assert statuses == [200] * 4 + [429] * 26
    assert right.status_code == 429
    assert not _logged_in(client)


def test_the_lock_holds_only_that_username_from_that_address(receptionist):
    other = UserFactory(username="other", role=roles.RECEPTIONIST)
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(5):
        _try(attacker, "desk", f"guess-{n}")

    same_user_elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    other_user_same_address = Client(REMOTE_ADDR="10.0.0.1")
    assert _try(same_user_elsewhere, "desk", "secret-pass").status_code == 302
    assert _try(other_user_same_address, other.username, "secret-pass").status_code == 302
    assert _try(Client(REMOTE_ADDR="10.0.0.1"), "desk", "secret-pass").status_code == 429


def test_the_lock_ends_after_the_pause(receptionist, settings):
    client = Client()
    with time_machine.travel(NOW, tick=False) as clock:
        for n in range(5):
            _try(client, "desk", f"guess-{n}")
        clock.shift(datetime.timedelta(minutes=14))
        assert _try(client, "desk", "secret-pass").status_code == 429
        # That try started the pause again.
        clock.shift(datetime.timedelta(minutes=14))
        assert _try(client, "desk", "secret-pass").status_code == 429
        clock.shift(datetime.timedelta(minutes=16))
        assert _try(client, "desk", "secret-pass").status_code == 302


def test_a_right_password_clears_the_earlier_failures(receptionist):
    client = Client()
    for n in range(4):
        _try(client, "desk", f"guess-{n}")
    assert _try(client, "desk", "secret-pass").status_code == 302
    client.post(reverse("logout"))
    statuses = [_try(client, "desk", f"again-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Log-in with this username from this computer is paused after 5 failed tries."),
        ("uk", "Вхід із цим іменем користувача з цього комп'ютера призупинено після 5 невдалих спроб."),
    ],
)
def test_the_lock_out_page_speaks_the_visitors_language(receptionist, language, text):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    for n in range(5):
        response = _try(client, "desk", f"guess-{n}")
    page = response.content.decode()
    assert response.status_code == 429
    assert text in page
    assert f'<html lang="{language}">' in page


# Behind docker-compose's proxy every request comes from the proxy's address; the client's is
# the last entry of X-Forwarded-For, which the proxy appends.
PROXY = "172.18.0.1"


def test_behind_the_proxy_the_lock_holds_one_client_not_the_proxy(receptionist, settings):
    settings.PROXY_COUNT = 1
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    for n in range(5):
        _try(attacker, "desk", f"guess-{n}")

    colleague = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _try(colleague, "desk", "secret-pass").status_code == 302
    # A forged first entry does not move the attacker to another address.
    forging = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")
    assert _try(forging, "desk", "secret-pass").status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.1.1.1"),  # no proxy trusted: the header is the client's own word
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "198.51.100.7, 203.0.113.5", "203.0.113.5"),
        (2, "198.51.100.7, 203.0.113.5", "198.51.100.7"),
        (2, "203.0.113.5", "10.1.1.1"),  # fewer entries than proxies: it did not come through them
        (1, "", "10.1.1.1"),
        (1, "not-an-address", "10.1.1.1"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_client_ip_takes_the_entry_the_trusted_proxies_wrote(settings, count, forwarded, expected):
    settings.PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
