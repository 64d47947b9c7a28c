"""Everything held about one client, as a ZIP: a JSON file for machines, a PDF for people (in the
client's language) and the uploaded scans.

Each app adds its sections (screening: screenings and clearances with their scans; sessions:
courses, appointments, session logs, reminders); clients may not import them, so they register
here from their AppConfig.ready(). Every section reads by this client's id only, so nothing of
any other client can be in it."""

import datetime
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.models import AccessEntry, Client
from clients.trail import object_label


@dataclass
class Section:
    """One part of the export: rows of (key -> value), and how each key is labelled in the PDF."""

    key: str  # the JSON key
    title: str
    columns: list[tuple[str, str]]  # (key, label), in the order the PDF shows them
    rows: list[dict] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # path inside the ZIP -> content

    @property
    def readable_rows(self) -> list[list[tuple[str, str]]]:
        """Each row as (label, text) pairs for the PDF, empty values left out."""
        return [[(label, text) for key, label in self.columns if (text := readable(row.get(key)))] for row in self.rows]


def readable(value) -> str:
    """A plain value as one line of text: lists joined, answers as "question: answer"."""
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return ", ".join(filter(None, (readable(v) for v in value)))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(v)}" for k, v in value.items() if readable(v))
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


SectionMaker = Callable[[Client], list[Section]]
_makers: list[SectionMaker] = []


def register(maker: SectionMaker) -> SectionMaker:
    """Add an app's sections once (ready() may run twice in tests); usable as a decorator."""
    if maker not in _makers:
        _makers.append(maker)
    return maker


def plain(value):
    """A value as JSON and the PDF show it: local times in ISO form, choices' values as they are."""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float):
        return value
    return str(value)


def _profile(client: Client) -> Section:
    columns = [
        ("record_number", _("Record number")),
        ("full_name", _("Full name")),
        ("phone", _("Phone")),
        ("email", _("Email")),
        ("birth_date", _("Date of birth")),
        ("sex", _("Sex")),
        ("language", _("Language")),
        ("preferred_pressure", _("Preferred pressure")),
        ("allergens", _("Allergens")),
        ("notes", _("Notes")),
        ("guardian_name", _("Guardian")),
        ("guardian_phone", _("Guardian's phone")),
        ("guardian_consent_at", _("Guardian's consent")),
        ("data_consent_at", _("Consent to data processing")),
        ("data_consent_withdrawn_at", _("Consent to data processing withdrawn")),
        ("reminder_consent", _("Email reminders")),
        ("created_at", _("Registered")),
    ]
    row = {
        "record_number": client.pk,
        "full_name": client.full_name,
        "phone": client.phone.as_international if client.phone else "",
        "email": client.email,
        "birth_date": client.birth_date,
        "sex": client.get_sex_display(),
        "language": client.get_language_display(),
        "preferred_pressure": client.get_preferred_pressure_display(),
        "allergens": ", ".join(client.allergens),
        "notes": client.notes,
        "guardian_name": client.guardian_name,
        "guardian_phone": client.guardian_phone.as_international if client.guardian_phone else "",
        "guardian_consent_at": client.guardian_consent_at,
        "data_consent_at": client.data_consent_at,
        "data_consent_withdrawn_at": client.data_consent_withdrawn_at,
        "reminder_consent": _("yes") if client.reminder_consent else _("no"),
        "created_at": client.created_at,
    }
    return Section("profile", _("Profile and consents"), columns, [{k: plain(v) for k, v in row.items()}])


def _trail(client: Client) -> Section:
    columns = [
        ("at", _("When")),
        ("user", _("Who")),
        ("page", _("Page")),
        ("object", _("What")),
        ("address", _("Address")),
    ]
    rows = [
        {
            "at": plain(entry.at),
            "user": entry.user.get_full_name() or entry.user.get_username(),
            "page": entry.page,
            "object": f"{object_label(entry)} #{entry.object_id}",
            "address": entry.address or "",
        }
        for entry in AccessEntry.objects.filter(client=client).select_related("user").order_by("at", "pk")
    ]
    return Section("access_trail", _("Who opened this record"), columns, rows)


def export_sections(client: Client) -> list[Section]:
    """The profile, every registered app's sections, and the access trail, in the client's language."""
    sections = [_profile(client)]
    for maker in _makers:
        sections.extend(maker(client))
    sections.append(_trail(client))
    return sections


def client_export_zip(*, client: Client) -> bytes:
    """The ZIP: client-<n>.json, client-<n>.pdf (WeasyPrint) and the scans under scans/."""
    # Imported here: WeasyPrint loads pango when imported, and only this needs it.
    from weasyprint import HTML

    with translation.override(client.language):
        sections = export_sections(client)
        made_at = timezone.localtime()
        data = {
            "client": client.pk,
            "exported_at": plain(made_at),
            "sections": {s.key: {"title": s.title, "rows": s.rows} for s in sections},
        }
        html = render_to_string(
            "clients/client_export.html",
            {"client": client, "sections": sections, "made_at": made_at, "lang": client.language},
        )
        pdf = HTML(string=html).write_pdf()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"client-{client.pk}.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr(f"client-{client.pk}.pdf", pdf)
        for section in sections:
            for path, content in section.files.items():
                archive.writestr(path, content)
    return buffer.getvalue()
