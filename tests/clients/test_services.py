import datetime

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models

from clients import selectors, services
from clients.models import Client
from tests.clients.helpers import client_data, make_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOON_IN_KYIV = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)  # 12:00 in Kyiv


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_records_consent_time_author_and_search_text(receptionist):
    client = make_client(created_by=receptionist, email="Oksana@Example.com ", phone="067 123 4567")
    client.refresh_from_db()
    assert client.data_consent_at == NOON_IN_KYIV
    assert client.created_by == receptionist
    assert client.email == "Oksana@Example.com"
    assert str(client.phone) == "+380671234567"
    assert client.guardian_consent_at is None
    assert client.search_text == "оксана шевченко oksana shevchenko 380671234567 0671234567 oksana@example.com"


def test_client_create_without_data_consent_is_refused():
    with pytest.raises(ValidationError) as exc_info:
        make_client(data_consent=False)
    assert _errors(exc_info) == {"data_consent": ["The client must consent to the processing of personal data."]}
    assert not Client.objects.exists()


def test_client_create_normalises_allergens():
    client = make_client(allergens=[" Sandalwood", "jasmine ", "", "SANDALWOOD", "Ylang  Ylang"])
    assert client.allergens == ["sandalwood", "jasmine", "ylang ylang"]


@pytest.mark.parametrize("phone", ["+38012", "abc", "067 123"])
def test_client_create_invalid_phone_is_refused_beside_the_field(phone):
    with pytest.raises(ValidationError) as exc_info:
        make_client(phone=phone)
    assert list(_errors(exc_info)) == ["phone"]


def test_client_create_invalid_email_is_refused_beside_the_field():
    with pytest.raises(ValidationError) as exc_info:
        make_client(email="oksana@")
    assert _errors(exc_info) == {"email": ["Enter a valid email address."]}


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_birth_date_in_the_future_is_refused():
    with pytest.raises(ValidationError) as exc_info:
        make_client(birth_date=datetime.date(2026, 3, 11))
    assert _errors(exc_info) == {"birth_date": ["The date of birth cannot be in the future."]}


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_birth_date_more_than_120_years_ago_is_refused():
    with pytest.raises(ValidationError) as exc_info:
        make_client(birth_date=datetime.date(1906, 3, 9))
    assert _errors(exc_info) == {"birth_date": ["The date of birth is more than 120 years ago; please check the year."]}


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_birth_date_exactly_120_years_ago_is_allowed():
    assert make_client(birth_date=datetime.date(1906, 3, 10)).pk


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_minor_without_guardian_is_refused_beside_the_guardian_fields():
    with pytest.raises(ValidationError) as exc_info:
        make_client(birth_date=datetime.date(2010, 3, 11))  # 18 tomorrow
    assert _errors(exc_info) == {
        "guardian_name": ["A client under 18 needs a guardian: enter the guardian's name."],
        "guardian_phone": ["A client under 18 needs a guardian: enter the guardian's phone."],
    }


@time_machine.travel(datetime.datetime(2026, 3, 9, 22, 30, tzinfo=datetime.UTC), tick=False)
def test_client_create_eighteenth_birthday_counts_on_the_kyiv_date():
    # 22:30 UTC on 9 March is already 10 March in Kyiv: the client is 18 today.
    assert make_client(birth_date=datetime.date(2008, 3, 10)).guardian_name == ""


@time_machine.travel(NOON_IN_KYIV, tick=False)
def test_client_create_minor_with_guardian_and_consent_records_the_consent_time():
    client = make_client(
        birth_date=datetime.date(2015, 6, 1),
        guardian_name="Олена Шевченко",
        guardian_phone="0501112233",
        guardian_consent=True,
    )
    assert client.guardian_consent_at == NOON_IN_KYIV
    assert str(client.guardian_phone) == "+380501112233"


def test_client_create_duplicate_phone_is_refused_beside_the_field():
    make_client()
    with pytest.raises(ValidationError) as exc_info:
        make_client(email="other@example.com", phone="0671234567")
    assert _errors(exc_info) == {"phone": ["A client with this phone already exists."]}
    assert Client.objects.count() == 1


def test_client_create_duplicate_email_in_another_case_is_refused():
    make_client()
    with pytest.raises(ValidationError) as exc_info:
        make_client(phone="0509999999", email="OKSANA@example.com")
    assert _errors(exc_info) == {"email": ["A client with this email already exists."]}


def test_client_create_same_phone_as_a_merged_record_is_allowed():
    retired = make_client()
    kept = make_client(phone="0509999999", email="kept@example.com")
    Client.objects.filter(pk=retired.pk).update(merged_into=kept)
    assert make_client().pk


def test_client_create_concurrent_duplicate_becomes_a_field_error(monkeypatch):
    # Another request inserted the same phone between our check and our insert.
    make_client()
    monkeypatch.setattr(selectors, "client_duplicates", lambda **kwargs: {})
    with pytest.raises(ValidationError) as exc_info:
        make_client(email="other@example.com")
    assert _errors(exc_info) == {"phone": ["A client with this phone already exists."]}
    assert Client.objects.count() == 1  # and the transaction is still usable


def test_client_update_changes_the_profile_and_search_text():
    client = make_client()
    data = client_data(full_name="Оксана Коваль", phone="0509998877", allergens=["Rose"])
    data.pop("data_consent")
    services.client_update(client=client, **data)
    client.refresh_from_db()
    assert client.full_name == "Оксана Коваль"
    assert client.allergens == ["rose"]
    assert client.search_text == "оксана коваль oksana koval 380509998877 0509998877 oksana@example.com"


def _update(client, **overrides):
    data = client_data(**overrides)
    data.pop("data_consent")
    return services.client_update(client=client, **data)


def test_client_update_keeps_the_guardian_consent_time_while_it_stays_ticked():
    with time_machine.travel(NOON_IN_KYIV, tick=False):
        client = make_client(
            birth_date=datetime.date(2015, 6, 1),
            guardian_name="Олена",
            guardian_phone="0501112233",
            guardian_consent=True,
        )
    with time_machine.travel(NOON_IN_KYIV + datetime.timedelta(days=30), tick=False):
        _update(
            client,
            birth_date=datetime.date(2015, 6, 1),
            guardian_name="Олена Шевченко",
            guardian_phone="0501112233",
            guardian_consent=True,
        )
    client.refresh_from_db()
    assert client.guardian_consent_at == NOON_IN_KYIV
    assert client.guardian_name == "Олена Шевченко"


def test_client_update_unticked_guardian_consent_is_cleared():
    client = make_client(
        birth_date=datetime.date(2015, 6, 1), guardian_name="Олена", guardian_phone="0501112233", guardian_consent=True
    )
    _update(client, birth_date=datetime.date(2015, 6, 1), guardian_name="Олена", guardian_phone="0501112233")
    client.refresh_from_db()
    assert client.guardian_consent_at is None


def test_client_update_ticking_guardian_consent_later_records_that_time():
    client = make_client(birth_date=datetime.date(2015, 6, 1), guardian_name="Олена", guardian_phone="0501112233")
    with time_machine.travel(NOON_IN_KYIV, tick=False):
        _update(
            client,
            birth_date=datetime.date(2015, 6, 1),
            guardian_name="Олена",
            guardian_phone="0501112233",
            guardian_consent=True,
        )
    assert client.guardian_consent_at == NOON_IN_KYIV


def test_client_update_keeping_its_own_phone_is_allowed():
    client = make_client()
    assert _update(client, notes="Прийшла вдруге").notes == "Прийшла вдруге"


def test_client_update_to_another_clients_phone_is_refused():
    make_client()
    other = make_client(phone="0509999999", email="other@example.com")
    with pytest.raises(ValidationError) as exc_info:
        _update(other, email="other@example.com", phone="+380671234567")
    assert _errors(exc_info) == {"phone": ["A client with this phone already exists."]}


def test_client_update_removing_the_guardian_of_a_minor_is_refused():
    client = make_client(birth_date=datetime.date(2015, 6, 1), guardian_name="Олена", guardian_phone="0501112233")
    with pytest.raises(ValidationError) as exc_info:
        _update(client, birth_date=datetime.date(2015, 6, 1), guardian_name=" ", guardian_phone="0501112233")
    assert list(_errors(exc_info)) == ["guardian_name"]


def test_client_update_of_a_merged_record_is_refused():
    source = make_client()
    target = make_client(phone="0509999999", email="kept@example.com")
    Client.objects.filter(pk=source.pk).update(merged_into=target)
    source.refresh_from_db()
    with pytest.raises(ValidationError, match="merged into another one"):
        _update(source)


# Merge


@pytest.fixture
def pair():
    source = make_client(
        full_name="Оксана Шевченко",
        phone="0671234567",
        email="",
        allergens=["rose", "jasmine"],
        preferred_pressure="light",
        notes="Алергія на троянду",
    )
    target = make_client(full_name="Оксана Шевченко", phone="", email="oksana@example.com", allergens=["sandalwood"])
    return source, target


def test_client_merge_marks_the_source_and_fills_empty_fields_of_the_target(pair, manager):
    source, target = pair
    result = services.client_merge(source=source, target=target, merged_by=manager)
    source.refresh_from_db()
    target.refresh_from_db()
    assert result == target
    assert source.merged_into == target
    assert Client.objects.count() == 2
    assert str(target.phone) == "+380671234567"  # moved from the now retired source
    assert target.email == "oksana@example.com"
    assert target.preferred_pressure == "light"
    assert target.notes == "Алергія на троянду"
    assert target.allergens == ["sandalwood", "rose", "jasmine"]
    assert "0671234567" in target.search_text
    assert list(target.merged_from.all()) == [source]


def test_client_merge_keeps_the_targets_own_values(pair, manager):
    source, target = pair
    target.preferred_pressure = "deep"
    target.save()
    services.client_merge(source=source, target=target, merged_by=manager)
    target.refresh_from_db()
    assert target.preferred_pressure == "deep"


def test_client_merge_by_a_receptionist_is_refused(pair, receptionist):
    source, target = pair
    with pytest.raises(PermissionDenied):
        services.client_merge(source=source, target=target, merged_by=receptionist)
    source.refresh_from_db()
    assert source.merged_into is None


def test_client_merge_into_itself_is_refused(pair, manager):
    source, _target = pair
    with pytest.raises(ValidationError, match="cannot be merged into itself"):
        services.client_merge(source=source, target=source, merged_by=manager)


def test_client_merge_into_a_merged_record_is_refused(pair, manager):
    source, target = pair
    third = make_client(phone="0931112233", email="third@example.com")
    services.client_merge(source=target, target=third, merged_by=manager)
    with pytest.raises(ValidationError, match="was itself merged into another record"):
        services.client_merge(source=source, target=target, merged_by=manager)
    source.refresh_from_db()
    assert source.merged_into is None


def test_client_merge_of_an_already_merged_record_is_refused(pair, manager):
    source, target = pair
    third = make_client(phone="0931112233", email="third@example.com")
    services.client_merge(source=source, target=target, merged_by=manager)
    with pytest.raises(ValidationError, match="is already merged"):
        services.client_merge(source=source, target=third, merged_by=manager)


def test_client_merge_leaves_records_merged_into_the_source_pointing_at_it(pair, manager):
    source, target = pair
    older = make_client(phone="0931112233", email="older@example.com")
    services.client_merge(source=older, target=source, merged_by=manager)
    services.client_merge(source=source, target=target, merged_by=manager)
    older.refresh_from_db()
    assert older.merged_into == source


@pytest.fixture
def probe_model(db):
    """A throwaway model with every kind of relation to Client, standing in for the screenings,
    appointments and session logs of other apps: merge must move them without knowing them."""

    class MergeProbe(models.Model):
        owner = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="merge_probes")
        hidden = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", null=True)
        linked = models.ManyToManyField(Client, related_name="linked_probes")

        class Meta:
            app_label = "clients"

    with connection.schema_editor() as editor:
        editor.create_model(MergeProbe)
    yield MergeProbe
    # The test's rollback drops the tables; the registry forgets the model here.
    for name in ("mergeprobe", "mergeprobe_linked"):
        apps.all_models["clients"].pop(name, None)
    apps.clear_cache()


def test_client_merge_moves_every_related_row_to_the_target(pair, manager, probe_model):
    source, target = pair
    both = probe_model.objects.create(owner=source, hidden=source)
    both.linked.set([source, target])
    only_source = probe_model.objects.create(owner=source)
    only_source.linked.set([source])
    untouched = probe_model.objects.create(owner=target)

    services.client_merge(source=source, target=target, merged_by=manager)

    assert set(probe_model.objects.filter(owner=target)) == {both, only_source, untouched}
    assert probe_model.objects.get(pk=both.pk).hidden == target
    assert list(both.linked.all()) == [target]
    assert list(only_source.linked.all()) == [target]
    assert not probe_model.objects.filter(owner=source).exists()


def test_client_merge_rolls_back_when_moving_fails(pair, manager, probe_model, monkeypatch):
    source, target = pair
    probe_model.objects.create(owner=source)

    def fail(**kwargs):
        raise ValidationError("boom")

    monkeypatch.setattr(services, "_save", lambda client: fail())
    with pytest.raises(ValidationError):
        services.client_merge(source=source, target=target, merged_by=manager)
    source.refresh_from_db()
    assert source.merged_into is None
    assert probe_model.objects.get().owner == source


def test_normalise_allergens_keeps_first_order():
    assert services.normalise_allergens(["Rose", "rose ", "  ", "Orange"]) == ["rose", "orange"]


def test_client_merge_needs_the_permission_not_the_group():
    user = UserFactory(username="owner")
    user.is_superuser = True
    user.save()
    source = make_client()
    target = make_client(phone="0509999999", email="kept@example.com")
    assert services.client_merge(source=source, target=target, merged_by=user) == target
