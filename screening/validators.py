"""What a clearance scan may be: a PDF, JPEG or PNG by its content, and small."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

SCAN_MAX_BYTES = 10 * 1024 * 1024

# The first bytes of each accepted format. The name's extension and the
# browser's content type are whatever the sender says; the bytes are not.
_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\xff\xd8\xff": "jpg",
    b"\x89PNG\r\n\x1a\n": "png",
}


def scan_max_bytes() -> int:
    return getattr(settings, "SCREENING_SCAN_MAX_BYTES", SCAN_MAX_BYTES)


def scan_format(head: bytes) -> str | None:
    """ "pdf", "jpg" or "png" when the bytes start like one, else None."""
    for signature, extension in _SIGNATURES.items():
        if head.startswith(signature):
            return extension
    return None


def validate_scan(file) -> None:
    # A stored file (an unchanged clearance re-validated) was checked on upload.
    if getattr(file, "_committed", False):
        return
    limit = scan_max_bytes()
    if file.size > limit:
        raise ValidationError(
            _("The scan is larger than %(limit)s; send a smaller file."),
            code="scan_too_large",
            params={"limit": filesizeformat(limit)},
        )
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if scan_format(head) is None:
        raise ValidationError(_("Only a PDF, JPEG or PNG scan is accepted."), code="scan_wrong_type")
