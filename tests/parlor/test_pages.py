import datetime
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

from parlor import selectors
from parlor.demo import STAFF
from parlor.models import MassageType, Masseur, Room, WorkingHours
from tests.factories import MasseurFactory, TimeOffFactory, WorkingHoursFactory

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["redis"] == "error: ConnectionError"


def test_pages_speak_ukrainian_by_default(client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = client.get(reverse("login"))
    assert response.content.decode().count("Увійти") >= 2
    assert 'lang="uk"' in response.content.decode()


def test_language_switcher_turns_pages_english(client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    page = client.get(reverse("login")).content.decode()
    assert "Log in" in page
    assert "Увійти" not in page


def test_dashboard_lists_who_works_today(reception_client):
    monday = WorkingHoursFactory(weekday=0, starts=datetime.time(8), ends=datetime.time(14))
    WorkingHoursFactory(weekday=2)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=KYIV), tick=False):
        response = reception_client.get("/")
    page = response.content.decode()
    assert monday.masseur.display_name in page
    assert "08:00–14:00" in page
    assert [m for m, _hours in response.context["working_today"]] == [monday.masseur]


def test_masseur_on_time_off_all_day_is_not_working():
    hours = WorkingHoursFactory(weekday=0)
    TimeOffFactory(
        masseur=hours.masseur,
        starts_at=datetime.datetime(2026, 11, 22, 0, 0, tzinfo=KYIV),
        ends_at=datetime.datetime(2026, 11, 25, 0, 0, tzinfo=KYIV),
    )
    other = WorkingHoursFactory(weekday=0, masseur=MasseurFactory())
    assert [m for m, _ in selectors.masseurs_working_on(datetime.date(2026, 11, 23))] == [other.masseur]


def test_dashboard_query_count_does_not_grow_with_staff(reception_client, django_assert_max_num_queries):
    WorkingHoursFactory(weekday=0)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0, tzinfo=KYIV), tick=False):
        # Four more for the waiting list's board and one for the calls to make (issue 14).
        with django_assert_max_num_queries(15) as few:
            reception_client.get("/")
        for _ in range(30):
            WorkingHoursFactory(weekday=0)
        with django_assert_max_num_queries(len(few.captured_queries)):
            reception_client.get("/")


def test_bootstrap_is_served_locally_and_pages_use_no_cdn(client):
    assert finders.find("bootstrap/css/bootstrap.min.css")
    assert finders.find("bootstrap/js/bootstrap.bundle.min.js")
    page = client.get(reverse("login")).content.decode()
    external = re.findall(r'(?:src|href)="(https?:)?//', page)
    assert external == []
    assert "/static/bootstrap/css/bootstrap.min.css" in page


def test_seed_demo_is_idempotent():
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    # Progress, one line per part as it runs, then every login it made.
    lines = output.getvalue().splitlines()
    assert [line.split()[0] for line in lines[:6]] == [
        "parlor.demo",
        "clients.demo",
        "screening.demo",
        "sessions.demo.appointments",
        "sessions.demo.logs",
        "sessions.demo.reminders",
    ]
    assert all(line.endswith(" s") for line in lines[:6])
    for username, *_ in STAFF:
        assert any(line.split()[:1] == [username] for line in lines[6:]), username
    counts = (Masseur.objects.count(), Room.objects.count(), WorkingHours.objects.count(), MassageType.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert counts == (4, 3, counts[2], 8)
    assert (Masseur.objects.count(), Room.objects.count(), WorkingHours.objects.count()) == counts[:3]
    assert counts[2] > 20


def test_seed_demo_logins_work(client):
    call_command("seed_demo", stdout=io.StringIO())
    assert client.login(username="reception", password="parlor-demo")
    assert client.get("/").status_code == 200


def test_make_run_banner_names_every_demo_login():
    script = (Path(__file__).resolve().parents[2] / "scripts" / "run.sh").read_text()
    banner = script[script.index("cat <<BANNER") : script.index("BANNER\n", script.index("cat <<BANNER") + 12)]
    for username, *_ in STAFF:
        assert re.search(rf"^\s+{username}\s", banner, re.M), username


def test_favicon_is_served_to_anyone_and_named_by_the_pages(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/parlor/favicon.svg"
    assert finders.find("parlor/favicon.svg")
    assert '<link rel="icon" href="/static/parlor/favicon.svg"' in client.get(reverse("login")).content.decode()
