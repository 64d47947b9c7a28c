import pytest

from parlor import roles
from tests.e2e.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]


def test_receptionist_logs_in_and_sees_the_dashboard(page):
    UserFactory(username="desk", first_name="Ірина", last_name="Мельник", role=roles.RECEPTIONIST)
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    assert page.get_by_test_id("dashboard-heading").inner_text().startswith("Сьогодні")
    assert page.get_by_test_id("current-user").inner_text() == "Ірина Мельник"


def test_wrong_password_shows_the_error_and_keeps_the_username(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    log_in(page, "desk", "not-it")
    assert page.input_value("input[name=username]") == "desk"
    assert page.locator(".alert-danger, .invalid-feedback, .alert").count() >= 1
