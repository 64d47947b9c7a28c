"""Dates as people read them, the parlor's contacts in the page's language, the admin's title."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from parlor import formats

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))
WEDNESDAY = datetime.datetime(2026, 12, 2, 15, 40, tzinfo=KYIV)


@pytest.mark.parametrize(
    ("language", "when", "weekday_day"),
    [
        ("uk", "2 грудня 2026, 15:40", "середа, 2 грудня 2026"),
        ("en", "2 December 2026, 15:40", "Wednesday, 2 December 2026"),
    ],
)
def test_formats_read_as_people_write_dates(language, when, weekday_day):
    with translation.override(language):
        assert formats.when(WEDNESDAY) == when
        assert formats.weekday_day(WEDNESDAY.date()) == weekday_day


def test_when_shows_the_kyiv_time_of_a_utc_instant():
    with translation.override("uk"):
        assert formats.when(datetime.datetime(2026, 12, 2, 13, 40, tzinfo=datetime.UTC)) == "2 грудня 2026, 15:40"


def test_dashboard_heading_writes_the_weekday_in_lower_case_after_the_comma(reception_client, settings):
    settings.LANGUAGE_CODE = "uk"
    # Back in time, not forward: the login's session must not expire on the way.
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=KYIV), tick=False):
        page = reception_client.get(reverse("parlor:dashboard")).content.decode()
    assert "Сьогодні, середа, 25 листопада 2026" in page


@pytest.mark.parametrize(
    ("language", "address", "other"),
    [("uk", "Київ, Печерський район", "Kyiv, Pechersk district"), ("en", "Kyiv, Pechersk district", "Київ")],
)
def test_footer_gives_the_parlors_address_in_the_pages_language(reception_client, settings, language, address, other):
    settings.LANGUAGE_CODE = language
    page = reception_client.get(reverse("parlor:dashboard")).content.decode()
    footer = page.split("<footer")[1].split("</footer>")[0]
    assert address in footer
    assert other not in footer


def test_admin_is_titled_with_the_products_name(manager_client, settings):
    settings.PARLOR_NAME_UK = "Салон «Спина»"
    settings.LANGUAGE_CODE = "uk"
    page = manager_client.get("/admin/").content.decode()
    assert "Салон «Спина»" in page
    assert "Django" not in page.split("<body")[1]
