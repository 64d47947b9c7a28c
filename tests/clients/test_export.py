"""The client's export: a ZIP with a JSON file, a readable PDF in the client's language and the scans,
and nothing of any other client."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clients.export import client_export_zip
from clients.models import AccessEntry
from tests.conftest import login_as
from tests.privacy_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world()


def _unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _identity(person) -> list[str]:
    client = person.client
    return [client.full_name, *client.full_name.split(), client.email, str(client.phone), str(client.phone)[4:]]


def test_export_holds_json_pdf_and_the_scan(world):
    a = world.a
    files = _unzip(client_export_zip(client=a.client))
    scan = f"scans/clearance-{a.clearance.pk}-{a.clearance.scan.name.rsplit('/', 1)[-1]}"
    assert sorted(files) == sorted([f"client-{a.client.pk}.json", f"client-{a.client.pk}.pdf", scan])
    assert files[scan].decode().startswith("%PDF-1.4\n% scan of a doctor's paper for Ярослава Приватна")
    data = json.loads(files[f"client-{a.client.pk}.json"])
    sections = data["sections"]
    assert list(sections) == [
        "profile",
        "screenings",
        "clearances",
        "courses",
        "appointments",
        "session_logs",
        "reminders",
        "call_requests",
        "waitlist",
        "waitlist_offers",
        "access_trail",
    ]
    assert sections["profile"]["rows"][0]["phone"] == "+380 50 111 2233"
    assert sections["profile"]["rows"][0]["allergens"] == "zz-oil-a"
    assert sections["screenings"]["rows"][0]["notes"].startswith("CLINICAL-SCREENING-NOTE-A")
    assert sections["clearances"]["rows"][0]["scan"] == scan
    assert len(sections["appointments"]["rows"]) == 2
    assert sections["session_logs"]["rows"][0]["addenda"][0].endswith("CLINICAL-ADDENDUM-A")
    # In the client's language (Ukrainian here), like the PDF.
    assert [r["state"] for r in sections["reminders"]["rows"]] == ["не вдалося"]


def test_export_holds_every_clinical_text_of_the_client(world):
    files = _unzip(client_export_zip(client=world.a.client))
    text = files[f"client-{world.a.client.pk}.json"].decode()
    for marker in world.a.markers:
        assert marker in text


def test_export_holds_nothing_of_another_client_sharing_the_masseur_and_the_day(world):
    a, b = world.a, world.b
    assert a.upcoming.masseur_id == b.upcoming.masseur_id
    assert a.upcoming.starts_at.date() == b.upcoming.starts_at.date()
    files = _unzip(client_export_zip(client=a.client))
    texts = [files[f"client-{a.client.pk}.json"].decode(), _pdf_text(files[f"client-{a.client.pk}.pdf"])]
    texts += [content.decode() for name, content in files.items() if name.startswith("scans/")]
    for text in texts:
        for secret in [*_identity(b), *b.markers]:
            assert secret not in text


def test_export_pdf_is_readable_and_in_the_clients_language(world, settings):
    settings.LANGUAGE_CODE = "en"
    a = world.a
    files = _unzip(client_export_zip(client=a.client))
    text = _pdf_text(files[f"client-{a.client.pk}.pdf"])
    # A Ukrainian-speaking client: headings in Ukrainian whatever the staff's language.
    assert "Скринінги" in text or "Скринінг" in text
    assert "Ярослава Приватна" in text
    assert "CLINICAL-LOG-NOTE-A" in text

    a.client.language = "en"
    a.client.save()
    english = _pdf_text(_unzip(client_export_zip(client=a.client))[f"client-{a.client.pk}.pdf"])
    assert "Screenings" in english
    assert "Who opened this record" in english


def test_export_page_gives_the_manager_a_zip_and_leaves_a_trail(world, client):
    login_as(client, world.manager)
    response = client.get(reverse("clients:client-export", args=[world.a.client.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="client-{world.a.client.pk}.zip"'
    assert response["Cache-Control"].startswith("max-age=0")
    entry = AccessEntry.objects.get()
    assert (entry.user, entry.client, entry.page) == (world.manager, world.a.client, "clients:client-export")


@pytest.mark.parametrize("who", ["receptionist", "masseur_booked"])
def test_export_is_the_managers_only(world, client, who):
    login_as(client, getattr(world, who))
    assert client.get(reverse("clients:client-export", args=[world.a.client.pk])).status_code == 403
    assert not AccessEntry.objects.exists()
