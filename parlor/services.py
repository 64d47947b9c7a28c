"""Writes to the parlor's resources."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from parlor.models import ClosedDay, MassageType

# Constraint name -> the field and message a person should see.
_CONSTRAINT_MESSAGES = {
    "parlor_timeoff_no_overlap": ("starts_at", _("This time off overlaps another one of the same masseur.")),
    "parlor_timeoff_ends_after_starts": ("ends_at", _("The end must be later than the start.")),
    "parlor_workinghours_ends_after_starts": ("ends", _("The end must be later than the start.")),
}


def massage_type_code(*, name_en: str, exclude_pk: int | None = None) -> str:
    """A free code for a new massage type, from its English name: "Hot stone massage" -> "hot-stone-massage",
    then "-2", "-3"... when taken."""
    field_length = MassageType._meta.get_field("code").max_length
    base = (slugify(name_en) or "massage-type")[: field_length - 4].strip("-")
    taken = set(MassageType.objects.exclude(pk=exclude_pk).filter(code__startswith=base).values_list("code", flat=True))
    code, number = base, 1
    while code in taken:
        number += 1
        code = f"{base}-{number}"
    return code


def resource_save(*, instance: models.Model, m2m: dict | None = None) -> models.Model:
    """Validate and save one resource row atomically; a constraint violation
    (a concurrent overlapping write) becomes a ValidationError on its field.
    A new massage type gets its code here: people never type it."""
    if isinstance(instance, MassageType) and not instance.code:
        instance.code = massage_type_code(name_en=instance.name_en, exclude_pk=instance.pk)
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
            for name, values in (m2m or {}).items():
                getattr(instance, name).set(values)
    except IntegrityError as exc:
        for constraint, (field, message) in _CONSTRAINT_MESSAGES.items():
            if constraint in str(exc):
                raise ValidationError({field: message}) from exc
        raise
    return instance


def resource_delete(*, instance: models.Model) -> None:
    """Delete a resource, refusing with a message when other records still use it."""
    try:
        with transaction.atomic():
            instance.delete()
    except (models.ProtectedError, IntegrityError) as exc:
        raise ValidationError(_("It is still in use; mark it inactive instead.")) from exc


def closed_day_add(*, day, reason: str = "", by) -> ClosedDay:
    """Close the parlor on a day (availability and proposals stop offering it); closing it twice keeps
    the first row."""
    closed = ClosedDay(day=day, reason=reason.strip(), created_by=by)
    closed.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            closed.save()
    except IntegrityError:
        # Closed meanwhile by someone else: the day is closed, as asked.
        return ClosedDay.objects.get(day=day)
    return closed


def closed_day_remove(*, closed_day: ClosedDay) -> None:
    """Open the parlor again on a day it was closed."""
    ClosedDay.objects.filter(pk=closed_day.pk).delete()
