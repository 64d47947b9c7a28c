"""Tokens never reach a log: a client link (/sessions/r/<token>/confirm/, /sessions/s/<token>/,
/book/sign-in/<token>/, /book/offer/<token>/) or a password-reset link is a key to someone's data
for as long as it is valid, and access logs are kept, copied and read by more people than the database.

RedactTokensFilter cleans Django's log lines (settings.LOGGING); RedactingGunicornLogger cleans
gunicorn's access log (docker-compose.yml's web service, the Dockerfile's CMD), request line
and Referer included.
"""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

# The URL patterns whose path carries a token (tests/parlor/test_logredact.py walks the URLconf
# to prove every <token> route is covered). Anything up to the next "/", "?", space or quote.
_TOKEN_PATHS = re.compile(
    r"(?P<prefix>/sessions/[rs]/|/book/(?:sign-in|offer)/|/account/reset/[^/?#\s\"']+/(?!set-password/))"
    r"(?P<token>[^/?#\s\"']+)"
)


def redact(text: str) -> str:
    """The text with every token of a link path replaced by [redacted]."""
    return _TOKEN_PATHS.sub(lambda m: m.group("prefix") + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """A logging filter that rewrites the record's message without tokens (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with every access-log field (request line, path, query, Referer,
    headers) cleaned of tokens: `gunicorn --logger-class parlor.logredact.RedactingGunicornLogger`."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
