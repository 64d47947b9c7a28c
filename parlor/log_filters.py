"""Logging filters: one line per refused request.

Django logs a PermissionDenied with its traceback, though it is an answer, not a fault; and
runserver logs the same request again as an access line. A 403 is worth one line that says why."""

import logging

FORBIDDEN = 403


class ForbiddenWithoutTraceback(logging.Filter):
    """django.request: a 403 keeps its one-line message ("Forbidden (Permission denied): /path"), no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == FORBIDDEN:
            record.exc_info = None
            record.exc_text = None
        return True


class NoForbiddenAccessLine(logging.Filter):
    """django.server: no access line for a 403, which django.request has already logged with its reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != FORBIDDEN
