"""Every page: a Content-Security-Policy without 'unsafe-inline' (no inline script or style
anywhere in our pages) and Cache-Control: no-store (client data stays in no cache)."""

import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.parlor.pagewalk import build_site, every_route, first_open, urls_for
from tests.sessions.test_masseur_support import NOW

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def _policy(response) -> set[str]:
    return set(response["Content-Security-Policy"].split("; "))


# What CSP without 'unsafe-inline' forbids in a page: inline <script> and <style>, style=""
# attributes, on*="" handlers and javascript: URLs.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _inline_code(html: str) -> list[str]:
    return INLINE.findall(html)


NOT_PAGES = {"client_export.html"}


def _page_templates() -> list[Path]:
    """Every template of ours that renders a page: emails are not pages (mail clients need
    their inline styles, and no browser applies this site's policy to them), nor is the export's
    PDF (WeasyPrint reads its <style>; no browser ever gets that HTML)."""
    folders = [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("sessions/*/templates")]
    found = [
        path
        for folder in folders
        for path in folder.rglob("*.html")
        if "emails" not in path.parts and path.name not in NOT_PAGES
    ]
    return sorted(set(found))


def test_the_policy_allows_nothing_inline():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert all("'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources for sources in directives.values())


def test_no_page_template_holds_inline_code():
    templates = _page_templates()
    assert len(templates) > 40
    offenders = {str(path.relative_to(ROOT)): _inline_code(path.read_text()) for path in templates}
    assert {path: found for path, found in offenders.items() if found} == {}


@pytest.fixture
def site(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the clearance's scan
    with time_machine.travel(NOW, tick=False):
        yield build_site()


def test_every_page_sends_the_policy_and_no_store_and_holds_no_inline_code(site):
    checked = 0
    with time_machine.travel(NOW, tick=False):
        for route in every_route():
            for url in urls_for(route, site):
                opened = first_open(site, url)
                if opened is None:
                    continue
                _role, response, url = opened
                assert _policy(response) == POLICY, url
                assert "no-store" in response["Cache-Control"], url
                if not response.streaming and response["Content-Type"].startswith("text/html"):
                    assert _inline_code(response.content.decode()) == [], url
                checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    "name",
    ["clients:client-detail", "sessions:appointment-detail", "sessions:course-detail", "sessions:client-history"],
)
def test_pages_with_client_data_are_never_stored(site, name):
    with time_machine.travel(NOW, tick=False):
        pk = {"clients:client-detail": site.day.client.pk, "sessions:client-history": site.day.client.pk}.get(
            name, site.day.appointment.pk if "appointment" in name else site.day.course.pk
        )
        response = site.client_for("manager").get(reverse(name, args=[pk]))
    assert response.status_code == 200
    assert set(response["Cache-Control"].split(", ")) == {
        "max-age=0",
        "no-cache",
        "no-store",
        "must-revalidate",
        "private",
    }


def test_refusals_and_redirects_carry_the_headers_too(client, reception_client):
    for response in (client.get("/clients/"), reception_client.get("/clients/?q=%00"), client.get("/login/")):
        assert _policy(response) == POLICY
        assert "no-store" in response["Cache-Control"]


def test_the_admin_sends_the_policy(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert _policy(response) == POLICY
    assert _inline_code(response.content.decode()) == []


def test_the_print_button_works_from_a_static_script():
    script = (ROOT / "static" / "parlor" / "parlor.js").read_text()
    assert "[data-print]" in script and "window.print()" in script
