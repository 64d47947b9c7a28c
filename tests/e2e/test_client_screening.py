import re

import pytest

from clients.models import Client
from parlor import roles
from screening.models import Screening
from tests.e2e.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]


def test_receptionist_registers_a_client_screens_high_pressure_and_sees_only_the_status(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")

    page.goto("/clients/new/")
    page.fill("input[name=full_name]", "Марія Коваленко")
    page.fill("input[name=phone]", "067 555 1234")
    page.fill("input[name=email]", "maria.k@example.com")
    page.fill("input[name=birth_date]", "1979-04-02")
    page.select_option("select[name=sex]", "female")
    page.check("input[name=data_consent]")
    page.click("input[type=submit][name=save]")
    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    client = Client.objects.get(full_name="Марія Коваленко")
    assert str(client.phone) == "+380675551234"
    # No screening yet: reception is told to record one before booking.
    assert page.locator("[data-testid=screening-panel] [data-status]").get_attribute("data-status") == (
        "needs-screening"
    )

    page.click(f"a[href='/screening/clients/{client.pk}/new/']")
    # Nothing is answered beforehand: one click does not record a clean screening.
    assert page.locator("input[type=radio]:checked").count() == 0
    page.click("input[type=submit][name=save]")
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, [id^=error_]").count() > 0
    assert Screening.objects.filter(client=client).count() == 0
    # The day-of questions are asked at check-in, not here.
    assert page.locator("input[name=q_fever]").count() == 0
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.check("input[name=q_high-blood-pressure][value=yes]")
    page.click("input[type=submit][name=save]")
    page.wait_for_url(re.compile(rf"/clients/{client.pk}/$"))

    assert Screening.objects.filter(client=client).count() == 1
    panel = page.get_by_test_id("screening-panel")
    assert panel.locator("[data-status]").get_attribute("data-status") == "adapted"
    # Issue 11 (need-to-know): reception sees the status and what to do, never the adaptation.
    assert page.get_by_test_id("verdict-adaptations").count() == 0
    assert "шиї" not in panel.inner_text()  # Ukrainian UI: "from the neck down"
    assert page.get_by_test_id("status-hint").inner_text().strip() != ""
