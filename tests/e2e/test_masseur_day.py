import datetime
import re
import uuid

import pytest
from django.utils import timezone

from parlor import roles
from screening import services as screening_services
from screening.models import Contraindication
from sessions.models import Appointment, Flag, SessionLog
from tests.e2e.conftest import log_in
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]


def _screen(client, *codes, taken_at):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(
                contraindication=catalogue[code],
                details={"allergens": ["rose"]} if code == "product-allergy" else {},
            )
            for code in codes
        ],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at,
    )


def test_masseur_acknowledges_a_flag_checks_in_signs_a_log_and_sees_it_in_history(page):
    now = timezone.localtime()
    today = now.date()
    massage_type = MassageTypeFactory(code="classic-e2e", duration_minutes=40, buffer_minutes=15)
    user = UserFactory(username="olena", role=roles.MASSEUR)
    masseur = MasseurFactory(user=user, display_name="Олена", qualifications=[massage_type])
    WorkingHoursFactory(masseur=masseur, weekday=today.weekday(), starts=datetime.time(0), ends=datetime.time(23, 59))
    client = ClientFactory(full_name="Ірина Троянда")
    _screen(client, "product-allergy", taken_at=now - datetime.timedelta(days=10))
    course = CourseFactory(client=client, massage_type=massage_type, planned_sessions=8)
    # Any time today will do: a session may start late, never on another day.
    starts_at = datetime.datetime.combine(today, datetime.time(12), tzinfo=now.tzinfo)
    appointment = AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        room=RoomFactory(),
        course=course,
        starts_at=starts_at,
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=now - datetime.timedelta(days=5))
    # After the booking the client reported a kidney disease: that raises flags.
    _screen(client, "product-allergy", "kidney-disease", taken_at=now - datetime.timedelta(days=2))

    log_in(page, "olena", "secret-pass")
    page.wait_for_url("**/")
    page.goto("/sessions/my-day/")
    row = page.locator(f"[data-testid=myday-row][data-appointment='{appointment.pk}']")
    assert "Ірина Троянда" in row.inner_text()
    assert row.get_by_test_id("myday-progress").inner_text() == "1/8"

    row.get_by_test_id("myday-review").click()
    page.wait_for_url(f"**/sessions/appointments/{appointment.pk}/review/")
    assert page.locator("[data-testid=flag][data-open='1']").count() == 2
    # The check-in is not offered while a flag is open.
    assert page.get_by_test_id("review-checkin").get_attribute("aria-disabled") == "true"
    while page.locator("[data-testid=flag-acknowledge]").count():
        page.locator("[data-testid=flag-acknowledge]").first.click()
        page.wait_for_load_state()
    assert page.locator("[data-testid=flag-acknowledged]").count() == 2
    assert not Flag.objects.filter(appointment=appointment, acknowledged_at__isnull=True).exists()

    page.get_by_test_id("review-checkin").click()
    page.wait_for_url(f"**/appointments/{appointment.pk}/check-in/")
    # Every day-of question is answered: none is answered beforehand.
    for name in ("fever", "intoxication", "menstruation", "acute_pain"):
        page.check(f"input[name={name}][value=no]")
    page.click("input[name=check_in]")
    page.wait_for_url(f"**/appointments/{appointment.pk}/log/")
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CHECKED_IN

    # The areas to avoid come pre-marked; the client's allergen is refused.
    assert page.locator("input[name=areas_avoided][value=spine]").is_checked()
    page.check("input[name=areas_worked][value=shoulders]")
    page.fill("input[name=pain_before]", "6")
    page.fill("input[name=pain_after]", "3")
    page.fill("input[name=duration_minutes]", "40")
    page.fill("input[name=products]", "Rose oil")
    page.fill("textarea[name=subjective]", "Тягне між лопатками")
    page.click("input[name=sign]")
    page.wait_for_load_state()
    assert page.locator("#id_products.is-invalid").count() == 1
    # The allergen by its Ukrainian name, not its code.
    assert "троянда" in page.locator("#id_products ~ .invalid-feedback, #error_1_id_products").first.inner_text()
    assert page.input_value("textarea[name=subjective]") == "Тягне між лопатками"
    assert not SessionLog.objects.exists()

    page.fill("input[name=products]", "almond oil")
    page.click("input[name=sign]")
    page.wait_for_selector("[data-testid=sessionlog][data-status=signed]")
    log = SessionLog.objects.get(appointment=appointment)
    assert (log.status, log.products, log.signed_by) == ("signed", ["almond oil"], user)
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.COMPLETED

    page.get_by_test_id("sessionlog-history").click()
    page.wait_for_url(re.compile(rf"/sessions/clients/{client.pk}/history/$"))
    session = page.locator("[data-testid=history-entry][data-kind=session]")
    assert session.count() == 1
    assert "almond oil" in session.get_by_test_id("sessionlog-products").inner_text()
    assert session.get_by_test_id("sessionlog-pain").inner_text() == "6 → 3"
