"""Who may see a client's health record (screening.access): the manager every
client's, a masseur only the clients booked with them, nobody else any."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parlor.models import MassageType
from screening.access import can_view_health_record, can_write_health_record, health_record_clients
from screening.models import Clearance, Contraindication, Screening
from sessions.models import Appointment
from tests.factories import MasseurFactory, UserFactory
from tests.screening.conftest import book, make_clearance
from tests.screening.test_views import _panel_html, answers
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
UTC = datetime.UTC
# Words of the health record (a finding's note, the history, the areas never
# worked) that must not reach a page for someone who may not see it.
HIDDEN = ["dizzy after stairs", "Never worked", 'data-testid="screening-history"', "scoliosis grade two"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sensitive(record, client_record):
    screening = record(client_record, "high-blood-pressure", notes={"high-blood-pressure": "dizzy after stairs"})
    clearance = make_clearance(
        client_record,
        kind="referral",
        covers_massage_type=MassageType.objects.get(code="therapeutic-back"),
        scan=SimpleUploadedFile("x.pdf", PDF),
        notes="scoliosis grade two",
    )
    return screening, clearance


def _health_urls(client_record, sensitive):
    screening, clearance = sensitive
    return {
        "history": reverse("screening:screening-list", args=[client_record.pk]),
        "detail": screening.get_absolute_url(),
        "scan": reverse("screening:clearance-scan", args=[clearance.pk]),
    }


def _other_masseur():
    return MasseurFactory(display_name="Інший Масажист")


# --- The rule ------------------------------------------------------------------------------


def test_manager_sees_a_client_never_booked(manager, client_record):
    assert not Appointment.objects.exists()
    assert can_view_health_record(manager, client_record) is True


def test_manager_check_needs_no_appointment_query(manager, client_record, django_assert_num_queries):
    manager.has_perm("screening.view_health_record")  # permissions are cached on the user
    with django_assert_num_queries(0):
        assert can_view_health_record(manager, client_record) is True


@pytest.mark.parametrize(
    "status",
    [s for s in Appointment.Status.values if s not in (Appointment.Status.CANCELLED, Appointment.Status.RESERVED)],
)
def test_masseur_sees_a_client_booked_with_them_in_any_status_but_cancelled(
    masseur_user, masseur_profile, client_record, status
):
    book(client_record, masseur_profile, status=status)
    assert can_view_health_record(masseur_user, client_record) is True


def test_a_time_only_held_online_gives_the_masseur_nothing(masseur_user, masseur_profile, client_record):
    # Issue 14: a client holding a time for ten minutes is not booked yet.
    AppointmentFactory(
        client=client_record,
        masseur=masseur_profile,
        status=Appointment.Status.RESERVED,
        reserved_until=datetime.datetime(2027, 3, 1, 8, 10, tzinfo=UTC),
    )
    assert can_view_health_record(masseur_user, client_record) is False
    assert health_record_clients(masseur_user, [client_record.pk]) == set()


def test_masseur_sees_a_client_of_a_past_session(masseur_user, masseur_profile, client_record):
    book(client_record, masseur_profile, status="completed", starts_at=datetime.datetime(2020, 3, 2, 8, tzinfo=UTC))
    assert can_view_health_record(masseur_user, client_record) is True


def test_masseur_does_not_see_a_client_never_booked(masseur_user, masseur_profile, client_record):
    assert can_view_health_record(masseur_user, client_record) is False


def test_cancelled_appointment_alone_does_not_count(masseur_user, masseur_profile, client_record):
    book(client_record, masseur_profile, status="cancelled")
    assert can_view_health_record(masseur_user, client_record) is False


def test_cancelled_appointment_beside_a_live_one_still_counts(masseur_user, masseur_profile, client_record):
    book(client_record, masseur_profile, status="cancelled")
    book(client_record, masseur_profile, starts_at=datetime.datetime(2027, 3, 5, 8, tzinfo=UTC))
    assert can_view_health_record(masseur_user, client_record) is True


def test_masseur_does_not_see_a_client_booked_with_another_masseur(masseur_user, masseur_profile, client_record):
    book(client_record, _other_masseur())
    assert can_view_health_record(masseur_user, client_record) is False


def test_masseur_booking_with_one_client_does_not_open_another(masseur_user, masseur_profile, client_record):
    from tests.factories import ClientFactory

    book(ClientFactory(), masseur_profile)
    assert can_view_health_record(masseur_user, client_record) is False


def test_health_permission_without_a_masseur_profile_sees_none(client_record):
    user = UserFactory(username="assistant")
    user.user_permissions.add(Permission.objects.get(codename="view_health_record"))
    book(client_record, _other_masseur())
    assert can_view_health_record(user, client_record) is False


def test_view_all_permission_alone_is_enough(client_record):
    user = UserFactory(username="auditor")
    user.user_permissions.add(Permission.objects.get(codename="view_all_health_records"))
    assert can_view_health_record(user, client_record) is True


def test_receptionist_sees_none_even_with_the_client_booked(receptionist, masseur_profile, client_record):
    book(client_record, masseur_profile)
    assert can_view_health_record(receptionist, client_record) is False


@pytest.mark.parametrize("user", [AnonymousUser(), None], ids=["anonymous", "none"])
def test_nobody_logged_in_sees_none(client_record, user):
    assert can_view_health_record(user, client_record) is False


@pytest.mark.parametrize("booked_here", [True, False])
def test_masseur_check_is_one_query(
    masseur_user, masseur_profile, client_record, booked_here, django_assert_num_queries
):
    book(client_record, masseur_profile if booked_here else _other_masseur())
    masseur_user.has_perm("screening.view_health_record")  # permissions are cached on the user
    with django_assert_num_queries(1):
        assert can_view_health_record(masseur_user, client_record) is booked_here


# --- Pages: a masseur with the client booked ---------------------------------------------------


def test_booked_masseur_reaches_every_health_page(masseur_client, sensitive, client_record, booked):
    urls = _health_urls(client_record, sensitive)
    for name, url in urls.items():
        assert masseur_client.get(url).status_code == 200, name
    assert "dizzy after stairs" in masseur_client.get(urls["detail"]).content.decode()
    assert b"".join(masseur_client.get(urls["scan"]).streaming_content) == PDF


def test_booked_masseur_panel_shows_the_details(masseur_user, sensitive, client_record, booked):
    html = _panel_html(masseur_user, client_record)
    assert "Never worked" in html
    assert 'data-testid="screening-history"' in html
    assert sensitive[0].get_absolute_url() in html


# --- Pages: a masseur without the client booked --------------------------------------------------


@pytest.fixture(params=["never-booked", "cancelled-only", "other-masseur"])
def not_booked(request, masseur_profile, client_record):
    """The three ways a masseur has no booking with the client."""
    if request.param == "cancelled-only":
        book(client_record, masseur_profile, status="cancelled")
    elif request.param == "other-masseur":
        book(client_record, _other_masseur())
    return request.param


@pytest.mark.parametrize("page", ["history", "detail", "scan"])
def test_masseur_not_booked_is_refused_health_pages_by_direct_url(
    masseur_client, sensitive, client_record, not_booked, page
):
    assert masseur_client.get(_health_urls(client_record, sensitive)[page]).status_code == 403


def test_masseur_not_booked_sees_no_health_words_on_the_client_page(
    masseur_client, sensitive, client_record, not_booked
):
    response = masseur_client.get(client_record.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    # The verdict's status stays visible, as for reception; since issue 11 not its adaptations.
    assert 'data-status="adapted"' in page
    assert "High blood pressure" not in page
    for word in HIDDEN:
        assert word not in page
    for url in _health_urls(client_record, sensitive).values():
        assert f'href="{url}"' not in page


def test_masseur_not_booked_sees_clearance_metadata_only(masseur_client, sensitive, client_record, not_booked):
    response = masseur_client.get(reverse("screening:clearance-list", args=[client_record.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Д-р Савченко" in page
    assert "scoliosis grade two" not in page
    assert _health_urls(client_record, sensitive)["scan"] not in page


def test_masseur_not_booked_may_not_record_a_screening(masseur_client, client_record, not_booked):
    url = reverse("screening:screening-create", args=[client_record.pk])
    assert masseur_client.get(url).status_code == 403
    assert masseur_client.post(url, answers(yes=("oncology",))).status_code == 403
    assert not Screening.objects.filter(client=client_record).exists()


def test_masseur_not_booked_may_not_add_a_clearance(masseur_client, client_record, not_booked):
    url = reverse("screening:clearance-create", args=[client_record.pk])
    data = {
        "kind": "permission",
        "doctor_name": "Д-р Савченко",
        "issued_on": "2026-11-01",
        "valid_until": "2026-12-31",
        "covers_contraindication": Contraindication.objects.get(code="skin-disease").pk,
    }
    assert masseur_client.get(url).status_code == 403
    assert masseur_client.post(url, data).status_code == 403
    assert not Clearance.objects.filter(client=client_record).exists()


def test_masseur_not_booked_is_not_offered_to_record_on_the_client_page(masseur_client, client_record, not_booked):
    page = masseur_client.get(client_record.get_absolute_url()).content.decode()
    assert reverse("screening:screening-create", args=[client_record.pk]) not in page
    assert reverse("screening:clearance-create", args=[client_record.pk]) not in page


def test_masseur_booked_records_a_screening_and_a_clearance(masseur_client, client_record, booked):
    response = masseur_client.post(reverse("screening:screening-create", args=[client_record.pk]), answers())
    assert response.status_code == 302
    assert Screening.objects.filter(client=client_record).count() == 1
    assert masseur_client.get(reverse("screening:clearance-create", args=[client_record.pk])).status_code == 200


def test_reception_records_for_any_client(reception_client, client_record):
    response = reception_client.post(reverse("screening:screening-create", args=[client_record.pk]), answers())
    assert response.status_code == 302
    assert can_write_health_record(UserFactory(username="desk2", role="Receptionist"), client_record) is True


def test_masseur_loses_the_record_when_the_only_appointment_is_cancelled(
    masseur_client, sensitive, client_record, booked
):
    url = _health_urls(client_record, sensitive)["history"]
    assert masseur_client.get(url).status_code == 200
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.CANCELLED)
    assert masseur_client.get(url).status_code == 403


# --- Pages: the manager ---------------------------------------------------------------------------


def test_manager_reaches_every_health_page_of_a_client_never_booked(manager_client, sensitive, client_record):
    assert not Appointment.objects.exists()
    for name, url in _health_urls(client_record, sensitive).items():
        assert manager_client.get(url).status_code == 200, name
    page = manager_client.get(client_record.get_absolute_url()).content.decode()
    assert "Never worked" in page
    assert 'data-testid="screening-history"' in page
