"""Uploads bigger than FILE_UPLOAD_MAX_BYTES are stopped while they stream.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count files: without this handler a 2 GB upload
is written whole to a temporary file before the form can say it is too large. Being first in
FILE_UPLOAD_HANDLERS, this handler sees every chunk before the others store it, and stops the
parser (parlor.middleware.RequestInputMiddleware answers 413 with a message)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler

# Room for the form's other fields (and the multipart headers) beside a file at the limit.
FORM_ALLOWANCE = 256 * 1024


class UploadTooLarge(RequestDataTooBig):
    """An uploaded file is over FILE_UPLOAD_MAX_BYTES. A SuspiciousOperation, so wherever it
    escapes the middleware Django still answers 400, never 500."""


class SizeLimitUploadHandler(FileUploadHandler):
    """Refuses a request whose Content-Length says it is too big before reading a byte, and
    otherwise any file as soon as it passes the limit."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.FILE_UPLOAD_MAX_BYTES + FORM_ALLOWANCE:
            raise UploadTooLarge("the request is larger than the upload limit")
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.FILE_UPLOAD_MAX_BYTES:
            raise UploadTooLarge(f"{self.field_name!r} is larger than the upload limit")
        return raw_data

    def file_complete(self, file_size):
        return None
