"""The parlor's local time (Europe/Kyiv from settings), shared by every capability of sessions."""

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone


def kyiv() -> ZoneInfo:
    return ZoneInfo(timezone.get_default_timezone_name())


def local_date(instant: datetime.datetime) -> datetime.date:
    return instant.astimezone(kyiv()).date()
