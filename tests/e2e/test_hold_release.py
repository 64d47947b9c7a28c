import datetime
import uuid

import pytest
from django.utils import timezone

from parlor import roles
from screening import services as screening_services
from screening.models import Contraindication, Screening
from sessions.flags import scan as flag_scan
from sessions.models import Appointment, Hold
from tests.e2e.conftest import log_in
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory, UserFactory
from tests.sessions.factories import AppointmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]


def test_reception_sees_why_a_booking_is_on_hold_records_the_clearance_and_releases_it(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    massage_type = MassageTypeFactory(name_uk="Класичний масаж (тест)", duration_minutes=40, buffer_minutes=15)
    client = ClientFactory(full_name="Юлія Бондар")
    screening_services.screening_record(
        client=client,
        answers={},
        findings=[],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=timezone.now() - datetime.timedelta(days=5),
    )
    appointment = AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=MasseurFactory(qualifications=[massage_type]),
        room=RoomFactory(),
        starts_at=timezone.now() + datetime.timedelta(days=2),
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=timezone.now() - datetime.timedelta(days=3))
    # The client answers the emailed questionnaire: a skin disease on the back; the worker's check holds it.
    screening_services.screening_record(
        client=client,
        answers={},
        findings=[screening_services.FindingInput(contraindication=Contraindication.objects.get(code="skin-disease"))],
        taken_by=None,
        source=Screening.Source.SELF_REPORTED,
        submission_key=uuid.uuid4(),
    )
    flag_scan.client_flags_check(client_id=client.pk, source="self-report")
    assert Appointment.objects.get(pk=appointment.pk).status == "on_hold"

    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    on_hold = page.get_by_test_id("on-hold")
    assert "Попросіть клієнта принести дозвіл лікаря." in on_hold.inner_text()
    assert "шкір" not in page.content().lower()  # the finding stays in the record

    on_hold.locator(f"[data-appointment='{appointment.pk}'] a").first.click()
    page.wait_for_url(f"**/sessions/appointments/{appointment.pk}/")
    assert page.get_by_test_id("release").count() == 0
    assert "Спершу потрібно внести дозвіл лікаря." in page.get_by_test_id("release-refusal").inner_text()

    page.goto(f"/screening/clients/{client.pk}/clearances/new/")
    page.select_option("select[name=kind]", "permission")
    page.fill("input[name=doctor_name]", "Д-р Савченко")
    today = timezone.localdate()
    page.fill("input[name=issued_on]", today.isoformat())
    page.fill("input[name=valid_until]", (today + datetime.timedelta(days=30)).isoformat())
    page.select_option(
        "select[name=covers_contraindication]", str(Contraindication.objects.get(code="skin-disease").pk)
    )
    page.click("input[type=submit][name=save]")
    page.wait_for_url(f"**/screening/clients/{client.pk}/clearances/")

    page.goto(f"/sessions/appointments/{appointment.pk}/")
    page.get_by_test_id("release").click()
    page.wait_for_selector("[data-testid=hold-history]")
    assert page.get_by_test_id("appointment-status").inner_text() == "записано"
    hold = Hold.objects.get(appointment=appointment)
    assert (hold.released_by.username, hold.release_note) == ("desk", "Анкета знову це дозволяє.")
