"""Database expressions shared by the apps' exclusion constraints."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    """tstzrange(start, end, '[)'): half-open, so 10:00-11:00 and 11:00-12:00 touch but do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()
