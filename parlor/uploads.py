"""Uploads bigger than FILE_UPLOAD_MAX_BYTES are stopped while they stream.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count files: without this handler a 2 GB upload
is written whole to a temporary file before any form can say it is too large. This handler is
first in FILE_UPLOAD_HANDLERS, so it sees every chunk before the others store it:

- a request whose Content-Length is over the limit (with room for the other fields) is refused
  before a byte of it is read: UploadTooLarge, which parlor.middleware.RequestInputMiddleware
  answers with a 413 page;
- a file that passes the limit inside a request just small enough is stored no further; the form
  gets an empty RefusedUpload that reports the size received, so its size check puts the message
  beside the field and keeps the rest of what was typed.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

# Room for the form's other fields and the multipart headers beside a file at the limit.
FORM_ALLOWANCE = 256 * 1024


class UploadTooLarge(RequestDataTooBig):
    """The request is over FILE_UPLOAD_MAX_BYTES. A SuspiciousOperation, so wherever it escapes
    the middleware Django still answers 400, never 500."""


class RefusedUpload(UploadedFile):
    """In place of a file that passed the limit: no content, and the size received so far (more
    than the limit), which is what a form's size check reads."""

    def __init__(self, *, name: str, content_type: str, size: int):
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size)


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops every upload at FILE_UPLOAD_MAX_BYTES (see the module's docstring)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.FILE_UPLOAD_MAX_BYTES + FORM_ALLOWANCE:
            raise UploadTooLarge("the request is larger than the upload limit")
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.refused = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.refused or self.received > settings.FILE_UPLOAD_MAX_BYTES:
            self.refused = True
            return None  # the handlers after this one never see the chunk
        return raw_data

    def file_complete(self, file_size):
        if self.refused:
            return RefusedUpload(name=self.file_name, content_type=self.content_type, size=self.received)
        return None
