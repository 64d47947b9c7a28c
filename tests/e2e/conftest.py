"""A real headless Chromium (Debian's package) driven by Playwright against a live server."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"

# Playwright's sync API runs an event loop in this thread; the live server and
# the test's own ORM calls are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it, or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.LANGUAGE_CODE = "uk"
    context = browser.new_context(base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv")
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Whatever the Content-Security-Policy refused (an inline script or style) fails the test.
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield page
    context.close()
    assert refused == [], refused


def log_in(page, username: str, password: str) -> None:
    """The log-in form, then the second factor when the account has one or must (managers): the
    code is computed from the user's authenticator in the database, as a phone would."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]:not([name=language])")
    page.wait_for_load_state()
    if "/account/two-factor/verify/" in page.url:
        page.fill("input[name=token]", current_code(username, confirmed=True))
        page.click("form input[type=submit][name=submit]")
        page.wait_for_load_state()
    elif "/account/two-factor/setup/" in page.url:
        page.fill("input[name=token]", current_code(username, confirmed=False))
        page.click("form input[type=submit][name=submit]")
        page.get_by_test_id("recovery-codes-continue").click()
        page.wait_for_load_state()


def current_code(username: str, *, confirmed: bool) -> str:
    """The code the user's authenticator shows now, or the next one if that was used already
    (a device takes each code once; it accepts the next step too)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=username, confirmed=confirmed).latest("pk")
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    step = max(totp.t(), device.last_t + 1)
    totp.time = device.t0 + (step - device.drift) * device.step
    return f"{totp.token():0{device.digits}d}"
