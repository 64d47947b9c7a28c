"""Security events: log-in, log-out, failed log-in and lock-out are recorded, the database
refuses to change or delete them, and a manager reads them on a paged page."""

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test import Client
from django.urls import reverse

from parlor.accounts.services import security_event_record
from parlor.models import SecurityEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVENTS = reverse("parlor:security-events")


def _events():
    return list(SecurityEvent.objects.order_by("pk").values_list("kind", "username", "ip_address", "detail"))


def test_log_in_and_log_out_are_recorded_with_the_address(receptionist):
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.post("/login/", {"username": "desk", "password": "secret-pass"})
    client.post(reverse("logout"))

    assert _events() == [("login", "desk", "192.0.2.10", ""), ("logout", "desk", "192.0.2.10", "")]
    assert SecurityEvent.objects.filter(user=receptionist).count() == 2


def test_a_failed_log_in_records_the_username_as_typed(receptionist):
    Client(REMOTE_ADDR="192.0.2.11").post("/login/", {"username": "no-such-user", "password": "x"})
    assert _events() == [("login-failed", "no-such-user", "192.0.2.11", "")]
    assert SecurityEvent.objects.get().user is None


def test_a_lock_out_is_recorded(receptionist):
    client = Client(REMOTE_ADDR="192.0.2.12")
    for n in range(5):
        client.post("/login/", {"username": "desk", "password": f"guess-{n}"})
    client.post("/login/", {"username": "desk", "password": "secret-pass"})

    kinds = [kind for kind, *_rest in _events()]
    # django-axes announces the lock-out while it handles the failure that caused it, so each
    # refused try records the lock-out just before its failure.
    assert kinds == ["login-failed"] * 4 + ["locked-out", "login-failed"] * 2


def test_the_address_behind_the_proxy_is_the_clients(receptionist, settings):
    settings.PROXY_COUNT = 1
    Client(REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        "/login/", {"username": "desk", "password": "secret-pass"}
    )
    assert _events() == [("login", "desk", "203.0.113.9", "")]


# Append-only, whoever asks: the trigger refuses UPDATE and DELETE sent as raw SQL.


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE parlor_securityevent SET username = 'someone-else'",
        "UPDATE parlor_securityevent SET at = at - interval '1 day' WHERE kind = 'login-failed'",
        "DELETE FROM parlor_securityevent",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(sql):
    event = security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username="desk")
    refused = pytest.raises(ProgrammingError, match="refused: its rows are append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    event.refresh_from_db()
    assert (event.username, SecurityEvent.objects.count()) == ("desk", 1)


def test_the_orm_cannot_change_or_delete_an_event_either():
    event = security_event_record(kind=SecurityEvent.Kind.LOGIN, username="desk")
    with pytest.raises(ProgrammingError), transaction.atomic():
        SecurityEvent.objects.filter(pk=event.pk).update(detail="edited")
    with pytest.raises(ProgrammingError), transaction.atomic():
        event.delete()
    assert SecurityEvent.objects.filter(pk=event.pk, detail="").exists()


def test_new_events_can_still_be_added_after_a_refusal():
    security_event_record(kind=SecurityEvent.Kind.LOGIN, username="a")
    with pytest.raises(ProgrammingError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM parlor_securityevent")
    security_event_record(kind=SecurityEvent.Kind.LOGOUT, username="a")
    assert SecurityEvent.objects.count() == 2


def test_deleting_a_user_keeps_their_events():
    user = UserFactory(username="leaver")
    security_event_record(kind=SecurityEvent.Kind.LOGIN, user=user)
    user.delete()
    assert _events() == [("login", "leaver", None, "")]


# The manager's page


def test_manager_sees_the_events_newest_first(manager_client):
    for n in range(3):
        security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username=f"guess{n}")

    response = manager_client.get(EVENTS)

    assert response.status_code == 200
    names = [event.username for event in response.context["page_obj"]]
    # The manager's own log-in (the fixture's) came first, so it is last.
    assert names == ["guess2", "guess1", "guess0", "mgr"]
    assert 'data-testid="security-event-row" data-kind="login-failed"' in response.content.decode()


def test_the_page_filters_by_kind_and_username(manager_client):
    security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username="Desk")
    security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username="other")
    security_event_record(kind=SecurityEvent.Kind.LOCKED_OUT, username="desk")

    response = manager_client.get(EVENTS, {"kind": "login-failed", "username": "desk"})

    assert [(e.kind, e.username) for e in response.context["page_obj"]] == [("login-failed", "Desk")]


def test_the_page_is_paged_by_fifty(manager_client):
    SecurityEvent.objects.bulk_create(SecurityEvent(kind="login-failed", username=f"u{n}") for n in range(120))
    first = manager_client.get(EVENTS, {"kind": "login-failed"})
    last = manager_client.get(EVENTS, {"kind": "login-failed", "page": 3})

    assert len(first.context["page_obj"]) == 50
    assert len(last.context["page_obj"]) == 20
    assert 'href="?kind=login-failed&amp;page=2"' in first.content.decode()


def test_a_bad_kind_shows_every_event_and_says_why(manager_client):
    response = manager_client.get(EVENTS, {"kind": "nonsense"})
    assert response.status_code == 200
    assert response.context["filter_form"].errors["kind"]


@pytest.mark.parametrize("client_fixture", ["reception_client", "masseur_client"])
def test_only_managers_see_the_events(request, client_fixture):
    assert request.getfixturevalue(client_fixture).get(EVENTS).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(EVENTS)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={EVENTS}"


@pytest.mark.parametrize("rows", [5, 200])
def test_the_page_takes_the_same_queries_whatever_the_count(manager_client, django_assert_max_num_queries, rows):
    SecurityEvent.objects.bulk_create(SecurityEvent(kind="login", username=f"u{n}") for n in range(rows))
    # Session, user, two-factor device, two for permissions, the count and the page.
    with django_assert_max_num_queries(7):
        assert manager_client.get(EVENTS).status_code == 200
