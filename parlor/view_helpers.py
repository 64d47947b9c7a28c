"""Small helpers every app's views share."""

from django.core.exceptions import PermissionDenied, ValidationError


def require_perm(request, perm: str) -> None:
    """403 unless the user has the permission."""
    if not request.user.has_perm(perm):
        raise PermissionDenied


def add_errors(form, exc: ValidationError) -> None:
    """A service's refusal onto the form: beside the field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
