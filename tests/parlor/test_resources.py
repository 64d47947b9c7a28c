import datetime
import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from parlor.models import MassageType, Room, TimeOff, WorkingHours
from tests.factories import MassageTypeFactory, MasseurFactory, RoomFactory, TimeOffFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db


def test_catalogue_is_seeded_from_the_domain():
    by_code = {t.code: t for t in MassageType.objects.all()}
    assert set(by_code) == {
        "general",
        "classic-back",
        "therapeutic-back",
        "relaxing",
        "neck-collar",
        "lumbar",
        "scoliosis",
        "children-back",
    }
    assert by_code["therapeutic-back"].requires_referral is True
    assert by_code["classic-back"].requires_referral is False
    assert all(t.buffer_minutes == 15 for t in by_code.values())
    assert by_code["general"].duration_minutes == 60


def test_manager_adds_a_room(manager_client):
    response = manager_client.post("/manage/rooms/new/", {"name": "Кабінет 9", "notes": "", "is_active": "on"})
    assert response.status_code == 302
    assert Room.objects.filter(name="Кабінет 9").exists()


def test_duplicate_room_name_is_refused_beside_the_field(manager_client):
    RoomFactory(name="Кабінет 1")
    response = manager_client.post("/manage/rooms/new/", {"name": "Кабінет 1", "is_active": "on"})
    assert response.status_code == 200
    assert "Room with this Name already exists." in response.context["form"].errors["name"][0]
    assert Room.objects.filter(name="Кабінет 1").count() == 1


def test_working_hours_ending_before_they_start_are_refused_and_typed_values_kept(manager_client):
    masseur = MasseurFactory()
    response = manager_client.post(
        "/manage/working-hours/new/", {"masseur": masseur.pk, "weekday": 2, "starts": "18:00", "ends": "09:00"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["ends"] == ["The end must be later than the start."]
    assert 'value="18:00"' in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_overlapping_working_hours_are_refused(manager_client):
    existing = WorkingHoursFactory(weekday=1, starts=datetime.time(9), ends=datetime.time(13))
    response = manager_client.post(
        "/manage/working-hours/new/",
        {"masseur": existing.masseur.pk, "weekday": 1, "starts": "12:00", "ends": "18:00"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["starts"][0].startswith("Overlaps ")
    assert WorkingHours.objects.count() == 1


def test_split_shift_that_only_touches_is_allowed(manager_client):
    existing = WorkingHoursFactory(weekday=1, starts=datetime.time(9), ends=datetime.time(13))
    response = manager_client.post(
        "/manage/working-hours/new/",
        {"masseur": existing.masseur.pk, "weekday": 1, "starts": "13:00", "ends": "18:00"},
    )
    assert response.status_code == 302
    assert WorkingHours.objects.count() == 2


def test_overlapping_time_off_is_refused(manager_client):
    existing = TimeOffFactory()
    response = manager_client.post(
        "/manage/time-off/new/",
        {"masseur": existing.masseur.pk, "starts_at": "2026-12-01T20:00", "ends_at": "2026-12-03T10:00", "reason": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"][0].startswith("Overlaps other time off")
    assert TimeOff.objects.count() == 1


def test_database_refuses_overlapping_time_off_under_concurrency():
    existing = TimeOffFactory()
    with pytest.raises(IntegrityError, match="parlor_timeoff_no_overlap"), transaction.atomic():
        TimeOff.objects.create(
            masseur=existing.masseur,
            starts_at=existing.starts_at + datetime.timedelta(hours=1),
            ends_at=existing.ends_at + datetime.timedelta(hours=1),
        )


def test_time_off_of_another_masseur_may_overlap():
    existing = TimeOffFactory()
    other = TimeOffFactory(starts_at=existing.starts_at, ends_at=existing.ends_at)
    assert other.pk


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_minutes", "0", "Ensure this value is greater than or equal to 10."),
        ("price_uah", "-5", "Ensure this value is greater than or equal to 0."),
        ("price_uah", "дорого", "Enter a number."),
        ("min_age", "150", "Ensure this value is less than or equal to 100."),
    ],
)
def test_massage_type_bad_numbers_are_refused_beside_the_field(manager_client, field, value, message):
    data = {
        "name_uk": "Стоун-терапія",
        "name_en": "Hot stone",
        "duration_minutes": "60",
        "buffer_minutes": "15",
        "price_uah": "900",
        "min_age": "0",
        "is_active": "on",
        field: value,
    }
    response = manager_client.post("/manage/massage-types/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert f'value="{value}"' in response.content.decode()
    assert not MassageType.objects.filter(name_en="Hot stone").exists()


def test_manager_sets_qualifications_of_a_masseur(manager_client):
    masseur = MasseurFactory()
    types = list(MassageType.objects.filter(code__in=["lumbar", "relaxing"]))
    response = manager_client.post(
        f"/manage/masseurs/{masseur.pk}/",
        {
            "user": masseur.user.pk,
            "display_name": "Нова Назва",
            "qualifications": [t.pk for t in types],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    masseur.refresh_from_db()
    assert masseur.display_name == "Нова Назва"
    assert set(masseur.qualifications.values_list("code", flat=True)) == {"lumbar", "relaxing"}


def test_unknown_resource_is_404(manager_client):
    assert manager_client.get("/manage/spaceships/").status_code == 404


@pytest.mark.parametrize("slug", ["rooms", "massage-types", "masseurs"])
def test_delete_asks_for_confirmation_and_only_its_post_deletes(manager_client, slug):
    obj = {"rooms": RoomFactory, "massage-types": MassageTypeFactory, "masseurs": MasseurFactory}[slug]()

    asked = manager_client.get(f"/manage/{slug}/{obj.pk}/delete/")

    assert asked.status_code == 200
    assert 'data-testid="confirm-delete"' in asked.content.decode()
    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert manager_client.post(f"/manage/{slug}/{obj.pk}/delete/").status_code == 302
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_the_edit_page_links_to_the_confirmation_not_a_delete_button(manager_client):
    room = RoomFactory()
    body = manager_client.get(f"/manage/rooms/{room.pk}/").content.decode()
    assert f'href="/manage/rooms/{room.pk}/delete/"' in body
    assert f'action="/manage/rooms/{room.pk}/delete/"' not in body


def test_reception_may_not_ask_to_delete(reception_client):
    room = RoomFactory()
    assert reception_client.get(f"/manage/rooms/{room.pk}/delete/").status_code == 403


def test_deleting_a_masseur_with_a_login_in_use_keeps_the_user(manager_client):
    masseur = MasseurFactory()
    manager_client.post(f"/manage/masseurs/{masseur.pk}/delete/")
    assert masseur.user.__class__.objects.filter(pk=masseur.user.pk).exists()


@pytest.mark.parametrize("slug", ["massage-types", "rooms", "masseurs", "working-hours", "time-off"])
def test_resource_list_queries_do_not_grow_with_rows(manager_client, django_assert_max_num_queries, slug):
    for _ in range(3):
        WorkingHoursFactory(masseur=MasseurFactory(qualifications=list(MassageType.objects.all()[:3])))
        RoomFactory()
    with django_assert_max_num_queries(8) as few:
        manager_client.get(reverse("parlor:resource-list", args=[slug]))
    for _ in range(30):
        masseur = MasseurFactory(qualifications=list(MassageType.objects.all()))
        WorkingHoursFactory(masseur=masseur)
        TimeOffFactory(masseur=masseur)
        RoomFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(reverse("parlor:resource-list", args=[slug]))
    assert response.status_code == 200


def _massage_type_data(**overrides):
    data = {
        "name_uk": "Стоун-терапія",
        "name_en": "Hot stone",
        "duration_minutes": "60",
        "buffer_minutes": "15",
        "price_uah": "900",
        "min_age": "0",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_massage_type_form_hides_the_code_and_makes_one_from_the_english_name(manager_client):
    page = manager_client.get("/manage/massage-types/new/").content.decode()
    assert 'name="code"' not in page

    manager_client.post("/manage/massage-types/new/", _massage_type_data())
    manager_client.post("/manage/massage-types/new/", _massage_type_data(name_uk="Стоун 2"))

    assert list(MassageType.objects.filter(name_en="Hot stone").order_by("pk").values_list("code", flat=True)) == [
        "hot-stone",
        "hot-stone-2",
    ]


def test_massage_type_edit_keeps_its_code(manager_client):
    classic = MassageType.objects.get(code="classic-back")
    response = manager_client.post(
        f"/manage/massage-types/{classic.pk}/", _massage_type_data(name_en="Classic back, renamed")
    )
    assert response.status_code == 302
    classic.refresh_from_db()
    assert (classic.code, classic.name_en) == ("classic-back", "Classic back, renamed")


def test_massage_type_form_errors_are_in_ukrainian(manager_client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = manager_client.post(
        "/manage/massage-types/new/",
        _massage_type_data(name_en="", duration_minutes="5", price_uah="дорого", buffer_minutes="1.5", min_age="x"),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"name_en", "duration_minutes", "price_uah", "buffer_minutes", "min_age"}
    messages = [message for field_errors in errors.values() for message in field_errors]
    assert [m for m in messages if re.search(r"[A-Za-z]", m)] == []
    assert errors["duration_minutes"] == ["Переконайтеся, що це значення більше чи дорівнює 10."]
