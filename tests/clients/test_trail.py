"""The access trail: entries written by the pages, refused changes at the database, the manager's pages."""

import datetime

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from clients.models import AccessEntry
from clients.trail import record_access
from tests.clients.helpers import make_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))


def _entry(client, user, *, at=None, page="clients:client-detail"):
    return AccessEntry.objects.create(
        client=client,
        user=user,
        page=page,
        object_type="clients.client",
        object_id=str(client.pk),
        address="192.0.2.7",
        **({"at": at} if at else {}),
    )


def test_record_access_names_who_when_what_and_from_where(manager):
    client = make_client()
    request = RequestFactory().get("/clients/1/", REMOTE_ADDR="203.0.113.9")
    request.user = manager
    request.resolver_match = None
    entry = record_access(request, client=client, page="clients:client-detail")
    entry.refresh_from_db()
    assert (entry.user, entry.client, entry.page, entry.object_type, entry.object_id, entry.address) == (
        manager,
        client,
        "clients:client-detail",
        "clients.client",
        str(client.pk),
        "203.0.113.9",
    )


def test_opening_a_client_page_with_health_data_writes_one_entry(manager_client, manager):
    client = make_client(allergens=["rose"])
    manager_client.get(reverse("clients:client-detail", args=[client.pk]), REMOTE_ADDR="198.51.100.4")
    entry = AccessEntry.objects.get()
    assert (entry.user, entry.client, entry.page, entry.address) == (
        manager,
        client,
        "clients:client-detail",
        "198.51.100.4",
    )


def test_reception_opening_a_client_page_writes_no_entry(reception_client):
    client = make_client(allergens=["rose"])
    reception_client.get(reverse("clients:client-detail", args=[client.pk]))
    assert not AccessEntry.objects.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clients_accessentry SET page = 'forged' WHERE id = %s",
        "UPDATE clients_accessentry SET at = now() - interval '1 year' WHERE id = %s",
        "DELETE FROM clients_accessentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(manager, statement):
    entry = _entry(make_client(), manager)
    with (
        pytest.raises((IntegrityError, InternalError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.page == "clients:client-detail"


def test_the_orm_cannot_delete_an_entry_either(manager):
    entry = _entry(make_client(), manager)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        AccessEntry.objects.filter(pk=entry.pk).delete()
    assert AccessEntry.objects.filter(pk=entry.pk).exists()


def test_a_client_in_the_trail_cannot_be_deleted(manager):
    from django.db.models import ProtectedError

    client = make_client()
    _entry(client, manager)
    with pytest.raises(ProtectedError):
        client.delete()


# --- the manager's pages ----------------------------------------------------------------------


def test_client_trail_lists_who_opened_the_record_newest_first(manager_client, manager):
    client = make_client()
    masseur = UserFactory(username="hands2", first_name="Ігор", last_name="Масажист")
    _entry(client, masseur, at=datetime.datetime(2026, 3, 1, 9, 0, tzinfo=KYIV))
    _entry(client, manager, at=datetime.datetime(2026, 3, 2, 9, 0, tzinfo=KYIV), page="screening:screening-detail")
    _entry(make_client(full_name="Інша Людина", phone="0501234567", email="other@example.com"), masseur)
    response = manager_client.get(reverse("clients:client-trail", args=[client.pk]))
    assert response.status_code == 200
    rows = [entry.page for entry, _label in response.context["rows"]]
    assert rows == ["screening:screening-detail", "clients:client-detail"]
    assert "Ігор Масажист" in response.content.decode()


def test_client_trail_filters_by_date_inclusive(manager_client, manager):
    client = make_client()
    for day in (1, 2, 3, 4):
        _entry(client, manager, at=datetime.datetime(2026, 3, day, 23, 30, tzinfo=KYIV), page=f"page-{day}")
    response = manager_client.get(
        reverse("clients:client-trail", args=[client.pk]), {"since": "2026-03-02", "until": "2026-03-03"}
    )
    assert [entry.page for entry, _label in response.context["rows"]] == ["page-3", "page-2"]


def test_trail_filter_with_the_end_before_the_start_says_so(manager_client):
    client = make_client()
    response = manager_client.get(
        reverse("clients:client-trail", args=[client.pk]), {"since": "2026-03-05", "until": "2026-03-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"until": ["The end cannot come before the start."]}


def test_user_trail_lists_what_the_user_opened_paged_by_fifty(manager_client, manager):
    masseur = UserFactory(username="hands3")
    client = make_client()
    for n in range(55):
        _entry(client, masseur, at=datetime.datetime(2026, 3, 1, 9, 0, tzinfo=KYIV) + datetime.timedelta(minutes=n))
    _entry(client, manager)
    url = reverse("clients:user-trail", args=[masseur.pk])
    first = manager_client.get(url)
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == 55
    second = manager_client.get(url, {"page": 2})
    assert len(second.context["rows"]) == 5
    assert client.full_name in second.content.decode()


@pytest.mark.parametrize("url_name", ["clients:client-trail", "clients:user-trail"])
def test_only_the_manager_reads_the_trail(reception_client, masseur_client, url_name, manager):
    client = make_client()
    arg = client.pk if url_name == "clients:client-trail" else manager.pk
    url = reverse(url_name, args=[arg])
    assert reception_client.get(url).status_code == 403
    assert masseur_client.get(url).status_code == 403


@pytest.mark.parametrize("count", [3, 120])
def test_client_trail_queries_do_not_grow_with_entries(manager_client, manager, count, django_assert_max_num_queries):
    client = make_client()
    users = [UserFactory(username=f"reader{n}") for n in range(3)]
    for n in range(count):
        _entry(client, users[n % 3])
    # Session, user, permissions (2), the client, the count and one page of entries with their users.
    with django_assert_max_num_queries(8):
        response = manager_client.get(reverse("clients:client-trail", args=[client.pk]), {"since": "2020-01-01"})
    assert len(response.context["rows"]) == min(count, 50)


@pytest.mark.parametrize("count", [3, 120])
def test_user_trail_queries_do_not_grow_with_entries(manager_client, manager, count, django_assert_max_num_queries):
    reader = UserFactory(username="reader")
    clients = [
        make_client(full_name=f"Клієнт {n}", phone=f"05012345{n:02d}", email=f"c{n}@example.com") for n in range(3)
    ]
    for n in range(count):
        _entry(clients[n % 3], reader)
    # Session, user, permissions (2), the user read, the count and one page of entries with their clients.
    with django_assert_max_num_queries(8):
        response = manager_client.get(reverse("clients:user-trail", args=[reader.pk]))
    assert len(response.context["rows"]) == min(count, 50)
