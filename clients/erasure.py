"""Erasing a client's personal data (the client's right, carried out by a manager with a written reason).

What goes: the client's identity and contact data (name, phone, email, guardian, date of birth but
its year, free-text notes, search text) everywhere they are held: the client row and the rows of
records merged into it, the change history (pghistory events), the admin's log, and what every
other app registers here (screenings, clearances and their scans, session logs, appointments'
reasons, reminders). What stays, without a link to the person: the row itself with a placeholder
name (so that appointments keep a client and "a session took place" stays true) and, when the
manager chooses, the clinical notes with the client's name, phone and email cut out of them.

clients may not import screening or sessions, so those apps register an eraser here from their
AppConfig.ready(); each one erases its own tables and its own change history. The whole erasure
is one transaction; the append-only triggers of screenings and signed session logs let it pass
(SET LOCAL parlor.erasing, see their migrations); the access trail's trigger does not, and it
needs nothing erased: it names clients and objects by id only.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import CharField, JSONField, Model, QuerySet, TextField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Erasure
from clients.search import phone_digits
from clients.translit import transliterate

ERASED = "[erased]"
# Shorter words of a name ("Ян", "Ли") would cut into ordinary words of the notes.
MIN_NAME_PART = 3


def placeholder_name(client: Client) -> str:
    """What the name becomes: the record number only, the same in either language."""
    return f"[erased #{client.pk}]"


class Scrubber:
    """Cuts a client's name (and its parts and Latin spelling), phone and email out of free text."""

    def __init__(self, clients: Iterable[Client]):
        needles: set[str] = set()
        for client in clients:
            for name in (client.full_name, client.guardian_name):
                if not name.strip():
                    continue
                for spelling in {name, transliterate(name.lower())}:
                    needles.add(spelling.strip())
                    needles.update(part for part in re.split(r"[\s\-]+", spelling) if len(part) >= MIN_NAME_PART)
            for phone in (client.phone, client.guardian_phone):
                needles.update(phone_variants(phone))
            if client.email:
                needles.add(client.email.strip())
        ordered = sorted((n for n in needles if n), key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE) if ordered else None

    def __call__(self, value):
        """The value with every needle replaced; lists and dicts (JSON) are scrubbed inside."""
        if self.pattern is None or value is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(ERASED, value)
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, dict):
            return {self(key): self(item) for key, item in value.items()}
        return value


def phone_variants(phone) -> set[str]:
    """The ways a phone is written: +380671234567, 380671234567, 0671234567, and with spaces."""
    if not phone:
        return set()
    variants = set(phone_digits(phone))
    for attribute in ("as_e164", "as_international", "as_national"):
        text = getattr(phone, attribute, None)
        if text:
            variants.add(str(text))
    variants.add(str(phone))
    return {v for v in variants if len(re.sub(r"\D", "", v)) >= 5}


def scrub_rows(queryset: QuerySet, scrub: Scrubber, *, fields: Iterable[str] | None = None) -> int:
    """Scrub the text and JSON fields (or only `fields`) of each row; an UPDATE only where text changed.
    Returns how many rows changed."""
    model = queryset.model
    names = list(fields) if fields is not None else text_fields(model)
    changed = 0
    for pk, *values in queryset.values_list("pk", *names):
        updates = {name: scrub(value) for name, value in zip(names, values, strict=True)}
        updates = {name: value for (name, value), old in zip(updates.items(), values, strict=True) if value != old}
        if updates:
            model._base_manager.filter(pk=pk).update(**updates)
            changed += 1
    return changed


def text_fields(model: type[Model]) -> list[str]:
    """The concrete text-bearing fields of a model (char, text, JSON), foreign keys excluded."""
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, CharField | TextField | JSONField) and not f.is_relation and not f.primary_key
    ]


@dataclass(frozen=True)
class ErasureRun:
    """What an app's eraser is given."""

    client: Client
    keep_clinical_notes: bool
    scrub: Scrubber


Eraser = Callable[[ErasureRun], None]
_erasers: list[Eraser] = []


def register(eraser: Eraser) -> Eraser:
    """Add an app's eraser once (ready() may run twice in tests); usable as a decorator."""
    if eraser not in _erasers:
        _erasers.append(eraser)
    return eraser


def _merged_into(client: Client) -> list[Client]:
    """The client and every record merged into it, at any depth: the same person's identity."""
    found, frontier = [client], [client.pk]
    while frontier:
        more = list(Client.objects.filter(merged_into_id__in=frontier))
        found.extend(more)
        frontier = [c.pk for c in more]
    return found


def _anonymise(record: Client, *, keep_clinical_notes: bool, now: datetime.datetime) -> None:
    record.full_name = placeholder_name(record)
    record.phone = ""
    record.email = ""
    # The year stays for anonymous statistics (and the column is required); the day goes.
    record.birth_date = datetime.date(record.birth_date.year, 1, 1)
    record.guardian_name = ""
    record.guardian_phone = ""
    record.notes = ""
    record.search_text = ""
    record.reminder_consent = False
    if not keep_clinical_notes:
        record.allergens = []
        record.preferred_pressure = ""
    record.erased_at = now
    record.save()


def client_erase(*, client: Client, reason: str, keep_clinical_notes: bool, erased_by) -> Erasure:
    """Remove the client's identity and contact data everywhere they are held; keep that sessions took
    place and, when asked, the clinical notes without the client's name, phone or email. Once only."""
    if not erased_by.has_perm("clients.erase_client"):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Write why the data is erased.")}, code="no_reason")
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.erased_at is not None:
            raise ValidationError(_("This client's data is already erased."), code="erased")
        with connection.cursor() as cursor:
            # For this transaction only: the append-only triggers of screenings and signed logs let it pass.
            cursor.execute("SET LOCAL parlor.erasing = 'on'")
        records = _merged_into(client)
        scrub = Scrubber(records)
        run = ErasureRun(client=client, keep_clinical_notes=keep_clinical_notes, scrub=scrub)
        # Last registered first: apps built on others (sessions on screening) clear what points at
        # the rows the earlier ones delete.
        for eraser in reversed(_erasers):
            eraser(run)
        _erase_admin_log(records, scrub)
        _erase_client_history(records)
        now = timezone.now()
        for record in records:
            _anonymise(record, keep_clinical_notes=keep_clinical_notes, now=now)
        # Saving the placeholders wrote one new history row per record; it holds nothing to erase.
        return Erasure.objects.create(
            client=client,
            erased_by=erased_by,
            reason=scrub(reason.strip()),
            kept_clinical_notes=keep_clinical_notes,
        )


def _erase_client_history(records: list[Client]) -> None:
    """Every snapshot of the profiles in the change history holds the identity: they go."""
    event_model = apps.get_model("clients", "ClientEvent")
    event_model.objects.filter(pgh_obj_id__in=[r.pk for r in records]).delete()


def _erase_admin_log(records: list[Client], scrub: Scrubber) -> None:
    """The admin's log names objects by their text ("Оксана Коваль · 2026-03-01"): cut the identity out."""
    client_type = ContentType.objects.get_for_model(Client)
    ids = [str(r.pk) for r in records]
    scrub_rows(LogEntry.objects.filter(content_type=client_type, object_id__in=ids), scrub)
    for record in records:
        scrub_rows(LogEntry.objects.filter(object_repr__icontains=record.full_name), scrub)
