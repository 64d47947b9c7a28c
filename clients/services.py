"""Writes to client records."""

import datetime
from collections.abc import Iterable

import pghistory.models
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.allergens import allergen_code
from clients.models import AccessEntry, Client, Erasure
from clients.search import search_text_for

# Constraint name -> the field and message a person should see.
_CONSTRAINT_MESSAGES = {
    "clients_client_phone_unique": ("phone", _("A client with this phone already exists.")),
    "clients_client_email_unique": ("email", _("A client with this email already exists.")),
}
# Profile fields a merge copies from the duplicate when the kept record has them empty.
_MERGE_FILLED_FIELDS = [
    "phone",
    "email",
    "preferred_pressure",
    "guardian_name",
    "guardian_phone",
    "guardian_consent_at",
    "notes",
]


_AS_IT_HAPPENED = (pghistory.models.Event, AccessEntry, Erasure)


def normalise_allergens(allergens: Iterable[str]) -> list[str]:
    """Trimmed, lower-cased, a common one as its code ("Троянда" -> "rose"), without blanks or repeats,
    in the order first given."""
    seen: list[str] = []
    for item in allergens:
        name = allergen_code(item)
        if name and name not in seen:
            seen.append(name)
    return seen


def _save(client: Client) -> Client:
    """Validate, refresh search_text and save; a unique-constraint race becomes a field error."""
    client.search_text = search_text_for(full_name=client.full_name, phone=client.phone, email=client.email)
    # Constraints are checked below with field-level messages; Django's own
    # check of a conditional constraint only says "constraint violated".
    client.full_clean(validate_constraints=False)
    duplicates = selectors.client_duplicates(phone=client.phone, email=client.email, exclude_pk=client.pk)
    if duplicates:
        raise ValidationError(
            {field: _CONSTRAINT_MESSAGES[f"clients_client_{field}_unique"][1] for field in duplicates}
        )
    try:
        # A savepoint, so a concurrent duplicate does not break the caller's transaction.
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        for constraint, (field, message) in _CONSTRAINT_MESSAGES.items():
            if constraint in str(exc):
                raise ValidationError({field: message}, code="duplicate") from exc
        raise
    return client


@transaction.atomic
def client_create(
    *,
    full_name: str,
    birth_date: datetime.date,
    sex: str,
    data_consent: bool,
    created_by,
    phone="",
    email: str = "",
    language: str = Client.Language.UKRAINIAN,
    preferred_pressure: str = "",
    allergens: Iterable[str] = (),
    reminder_consent: bool = False,
    guardian_name: str = "",
    guardian_phone="",
    guardian_consent: bool = False,
    notes: str = "",
) -> Client:
    """Register a client who consented to data processing; at most one live record per phone and per email."""
    if not data_consent:
        raise ValidationError(
            {"data_consent": _("The client must consent to the processing of personal data.")}, code="no_consent"
        )
    now = timezone.now()
    client = Client(
        full_name=full_name.strip(),
        birth_date=birth_date,
        sex=sex,
        phone=phone or "",
        email=(email or "").strip(),
        language=language,
        preferred_pressure=preferred_pressure,
        allergens=normalise_allergens(allergens),
        reminder_consent=reminder_consent,
        guardian_name=guardian_name.strip(),
        guardian_phone=guardian_phone or "",
        guardian_consent_at=now if guardian_consent else None,
        notes=notes,
        data_consent_at=now,
        created_by=created_by,
    )
    return _save(client)


@transaction.atomic
def client_update(
    *,
    client: Client,
    full_name: str,
    birth_date: datetime.date,
    sex: str,
    phone="",
    email: str = "",
    language: str = Client.Language.UKRAINIAN,
    preferred_pressure: str = "",
    allergens: Iterable[str] = (),
    reminder_consent: bool = False,
    guardian_name: str = "",
    guardian_phone="",
    guardian_consent: bool = False,
    notes: str = "",
) -> Client:
    """Change a live client's profile; guardian consent keeps its first date while it stays given."""
    if client.erased_at:
        raise ValidationError(_("This client's data is erased; the record cannot be changed."), code="erased")
    if client.merged_into_id:
        raise ValidationError(_("This record was merged into another one; edit that one instead."), code="merged")
    client.full_name = full_name.strip()
    client.birth_date = birth_date
    client.sex = sex
    client.phone = phone or ""
    client.email = (email or "").strip()
    client.language = language
    client.preferred_pressure = preferred_pressure
    client.allergens = normalise_allergens(allergens)
    client.reminder_consent = reminder_consent
    client.guardian_name = guardian_name.strip()
    client.guardian_phone = guardian_phone or ""
    if not guardian_consent:
        client.guardian_consent_at = None
    elif client.guardian_consent_at is None:
        client.guardian_consent_at = timezone.now()
    client.notes = notes
    return _save(client)


def client_merge(*, source: Client, target: Client, merged_by) -> Client:
    """Fold a duplicate record into the one kept: every row that points at `source` then points at
    `target`, target's empty fields are filled from source, allergens united; source stays, marked merged."""
    if not merged_by.has_perm("clients.merge_client"):
        raise PermissionDenied
    if source.pk == target.pk:
        raise ValidationError(_("A record cannot be merged into itself."), code="same")
    with transaction.atomic():
        # Lock both rows, in pk order so two opposite merges cannot deadlock,
        # and re-read them: a concurrent merge may have just retired either.
        locked = {
            c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if target.merged_into_id:
            raise ValidationError(
                _("%(client)s was itself merged into another record; merge into that one.") % {"client": target},
                code="target_merged",
            )
        if source.merged_into_id:
            raise ValidationError(_("%(client)s is already merged.") % {"client": source}, code="source_merged")

        _move_related_rows(source=source, target=target)

        # Retire the source first: its phone and email may move to the target,
        # and the unique constraints only count live records.
        source.merged_into = target
        source.save(update_fields=["merged_into", "updated_at"])

        for field in _MERGE_FILLED_FIELDS:
            if not getattr(target, field) and getattr(source, field):
                setattr(target, field, getattr(source, field))
        target.allergens = normalise_allergens([*target.allergens, *source.allergens])
        _save(target)
    return target


def _move_related_rows(*, source: Client, target: Client) -> None:
    """Re-point every relation to Client, whichever app declares it, so that models added later
    (screenings, courses, appointments, session logs) follow a merge without changes here.

    Hidden relations (related_name="+") count too, which `_meta.related_objects` would skip."""
    merged_into = Client._meta.get_field("merged_into")
    for relation in Client._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or relation.field is merged_into:
            # Forward fields; and records merged into the source keep pointing
            # at it: the chain leads on to the target.
            continue
        if issubclass(relation.related_model, _AS_IT_HAPPENED):
            # History tells what happened to the record that existed then: the
            # change history (pghistory events), the access trail (append-only
            # anyway) and erasures stay with the source.
            continue
        field = relation.field
        if relation.many_to_many:
            through = relation.through
            to_client, other = field.m2m_reverse_field_name(), field.m2m_field_name()
            # A row already linked to the target would become a duplicate pair.
            already = through._base_manager.filter(**{to_client: target}).values(other)
            through._base_manager.filter(**{to_client: source, f"{other}__in": already}).delete()
            through._base_manager.filter(**{to_client: source}).update(**{to_client: target})
        elif relation.related_model._meta.auto_created:
            continue  # an M2M's own through table, moved by the branch above
        else:
            # One-to-many and one-to-one; for a one-to-one held by both, the
            # database refuses and the whole merge rolls back.
            try:
                with transaction.atomic():
                    relation.related_model._base_manager.filter(**{field.name: source}).update(**{field.name: target})
            except IntegrityError as exc:
                raise ValidationError(
                    _("Both records have %(what)s and only one is allowed; resolve it before merging.")
                    % {"what": relation.related_model._meta.verbose_name},
                    code="conflict",
                ) from exc


def client_withdraw_data_consent(*, client: Client, by) -> Client:
    """The client withdrew consent to data processing: reminders stop at once (no reminder consent),
    and the record awaits a manager's erasure (clients.erasure). Recording it twice keeps the first date."""
    if not by.has_perm("clients.change_client"):
        raise PermissionDenied
    if client.erased_at:
        raise ValidationError(_("This client's data is already erased."), code="erased")
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.data_consent_withdrawn_at is None:
            client.data_consent_withdrawn_at = timezone.now()
        client.reminder_consent = False
        client.save(update_fields=["data_consent_withdrawn_at", "reminder_consent", "updated_at"])
    return client
