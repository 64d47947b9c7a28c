"""Writes of screening data: screenings (append-only) and clearances."""

import datetime
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from parlor.models import MassageType
from screening import events
from screening.models import Clearance, Contraindication, Finding, QuestionnaireSettings, Screening
from screening.validators import scan_format

PREGNANCY_WEEKS = range(1, 43)

# Constraint name -> the field and message a person should see.
_CLEARANCE_CONSTRAINTS = {
    "screening_clearance_covers_something": (
        "covers_contraindication",
        _("Say what it covers: a contraindication, a massage type or both."),
    ),
    "screening_clearance_valid_after_issued": ("valid_until", _("It cannot end before it was issued.")),
}


@dataclass(frozen=True)
class FindingInput:
    contraindication: Contraindication
    note: str = ""
    details: dict = field(default_factory=dict)


def _existing(submission_key: uuid.UUID) -> Screening | None:
    return Screening.objects.filter(submission_key=submission_key).first()


def _validate_findings(findings: list[FindingInput]) -> None:
    codes = [f.contraindication.code for f in findings]
    if len(codes) != len(set(codes)):
        raise ValidationError(_("A contraindication is listed twice."))
    for finding in findings:
        weeks = finding.details.get("pregnancy_weeks")
        if weeks is not None and (not isinstance(weeks, int) or weeks not in PREGNANCY_WEEKS):
            raise ValidationError({"pregnancy_weeks": _("Pregnancy weeks must be between 1 and 42.")})
        allergens = finding.details.get("allergens")
        if allergens is not None and (
            not isinstance(allergens, list) or not all(isinstance(a, str) and a.strip() for a in allergens)
        ):
            raise ValidationError({"allergens": _("Name each allergen.")})


def screening_record(
    *,
    client: Client,
    answers: dict,
    findings: list[FindingInput],
    taken_by,
    source: str = Screening.Source.STAFF,
    submission_key: uuid.UUID,
    notes: str = "",
    taken_at: datetime.datetime | None = None,
) -> Screening:
    """Record a screening with its findings at once; the same submission_key
    again (a double click, two concurrent posts) returns the first one."""
    existing = _existing(submission_key)
    if existing is not None:
        if existing.client_id != client.pk:
            raise ValidationError(_("This form was already used for another client; open it again."))
        return existing
    _validate_findings(findings)
    screening = Screening(
        client=client,
        taken_at=taken_at or timezone.now(),
        taken_by=taken_by,
        source=source,
        answers=answers,
        submission_key=submission_key,
        notes=notes,
    )
    screening.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            screening.save()
            Finding.objects.bulk_create(
                Finding(
                    screening=screening,
                    contraindication=f.contraindication,
                    note=f.note,
                    details=f.details,
                )
                for f in findings
            )
    except IntegrityError as exc:
        # The other of two concurrent submits won the unique key: return its screening.
        if "screening_screening_submission_key_unique" in str(exc):
            winner = _existing(submission_key)
            if winner is not None and winner.client_id == client.pk:
                return winner
        raise
    # Only a new screening: the repeat returns above were announced by the first call.
    events.screening_recorded(screening.pk)
    return screening


def clearance_add(
    *,
    client: Client,
    kind: str,
    doctor_name: str,
    issued_on: datetime.date,
    valid_until: datetime.date,
    covers_contraindication: Contraindication | None = None,
    covers_massage_type: MassageType | None = None,
    scan=None,
    notes: str = "",
    created_by,
) -> Clearance:
    """Add a doctor's referral or permission; the scan must be a PDF, JPEG or PNG of at most 10 MB."""
    clearance = Clearance(
        client=client,
        kind=kind,
        doctor_name=doctor_name.strip(),
        issued_on=issued_on,
        valid_until=valid_until,
        covers_contraindication=covers_contraindication,
        covers_massage_type=covers_massage_type,
        notes=notes,
        created_by=created_by,
    )
    if scan:
        scan.seek(0)
        detected = scan_format(scan.read(8))
        scan.seek(0)
        # Stored under the extension its bytes say, whatever it was called.
        scan.name = f"scan.{detected or 'bin'}"
        clearance.scan = scan
    clearance.full_clean()
    try:
        with transaction.atomic():
            clearance.save()
    except IntegrityError as exc:
        for constraint, (field_name, message) in _CLEARANCE_CONSTRAINTS.items():
            if constraint in str(exc):
                raise ValidationError({field_name: message}) from exc
        raise
    events.clearance_changed(clearance.pk)
    return clearance


def contraindication_save(*, instance: Contraindication) -> Contraindication:
    """Save a catalogue entry edited by the manager."""
    instance.full_clean()
    instance.save()
    return instance


def questionnaire_settings_update(
    *, settings_row: QuestionnaireSettings, female_questions_until_age: int
) -> QuestionnaireSettings:
    """The manager's questionnaire settings (the one row); the validators give the bounds and their messages.
    Screenings already recorded keep what they asked."""
    with transaction.atomic():
        row = QuestionnaireSettings.objects.select_for_update().get(pk=settings_row.pk)
        row.female_questions_until_age = female_questions_until_age
        row.full_clean()
        row.save()
    return row
