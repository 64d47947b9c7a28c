"""Development email: Django's file backend, plus one .eml file per message that any mail program opens.

The file backend alone appends every message of a connection to one .log file with encoded
headers (=?utf-8?b?...?=), which nobody reads. Here each message is also saved on its own, named
by the time and its decoded subject: var/mail/20261202-154012-4711.3-Нагадування про масаж….eml.
"""

import datetime
import itertools
import os
import re
import unicodedata

from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend

# Letters of any script, digits and a few marks stay; everything else (slashes, colons) becomes "-".
_UNSAFE = re.compile(r"[^\w.,()\-]+", re.UNICODE)
SUBJECT_CHARS = 80
_counter = itertools.count(1)


def eml_file_name(subject: str, *, at: datetime.datetime, number: str) -> str:
    """20261202-154012-4711.3-Subject-words.eml: sortable by time, unique (process and count), readable
    in a file manager."""
    readable = _UNSAFE.sub("-", unicodedata.normalize("NFC", subject or "")).strip("-.")[:SUBJECT_CHARS]
    return f"{at:%Y%m%d-%H%M%S}-{number}-{readable or 'no-subject'}.eml"


class EmlFileBackend(FileEmailBackend):
    """What Django's file backend writes, and each message as its own .eml file beside it."""

    def write_message(self, message):
        super().write_message(message)
        name = eml_file_name(str(message.subject), at=datetime.datetime.now(), number=f"{os.getpid()}.{next(_counter)}")
        with open(os.path.join(self.file_path, name), "wb") as eml:
            eml.write(message.message().as_bytes())
