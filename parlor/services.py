"""Writes to the parlor's resources."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

# Constraint name -> the field and message a person should see.
_CONSTRAINT_MESSAGES = {
    "parlor_timeoff_no_overlap": ("starts_at", _("This time off overlaps another one of the same masseur.")),
    "parlor_timeoff_ends_after_starts": ("ends_at", _("The end must be later than the start.")),
    "parlor_workinghours_ends_after_starts": ("ends", _("The end must be later than the start.")),
}


def resource_save(*, instance: models.Model, m2m: dict | None = None) -> models.Model:
    """Validate and save one resource row atomically; a constraint violation
    (a concurrent overlapping write) becomes a ValidationError on its field."""
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
