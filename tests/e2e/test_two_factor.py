"""A manager's first log-in in a real browser: password, the authenticator set up from the QR
page, the recovery codes; the next log-in asks for a code. No page breaks the CSP (page fixture)."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor import roles
from tests.e2e.conftest import current_code, log_in
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]


def _manager():
    user = UserFactory(username="boss", first_name="Олена", last_name="Коваль", role=roles.MANAGER)
    user.is_staff = True
    user.save()
    return user


def test_a_new_manager_sets_up_two_factor_then_logs_in_with_a_code(page):
    _manager()
    page.goto("/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "secret-pass")
    page.click("button[type=submit]:not([name=language])")

    page.wait_for_url("**/account/two-factor/setup/**")
    assert page.get_by_test_id("totp-qr").locator("svg").count() == 1
    page.fill("input[name=token]", current_code("boss", confirmed=False))
    page.click("form input[type=submit][name=submit]")
    assert page.get_by_test_id("recovery-codes").locator("li").count() == 10
    page.get_by_test_id("recovery-codes-continue").click()
    page.wait_for_url("**/")
    assert page.get_by_test_id("current-user").inner_text() == "Олена Коваль"

    page.click("form[action='/logout/'] button")
    log_in(page, "boss", "secret-pass")
    page.wait_for_url("**/")
    assert page.get_by_test_id("current-user").inner_text() == "Олена Коваль"
    assert TOTPDevice.objects.get(user__username="boss").confirmed


def test_the_client_history_prints_from_a_static_script(page):
    # The print button had an onclick attribute, which the CSP refuses; parlor.js handles it now.
    _manager()
    client = ClientFactory()
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    log_in(page, "boss", "secret-pass")
    page.wait_for_url("**/")
    page.goto(f"/sessions/clients/{client.pk}/history/")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed") == 1
