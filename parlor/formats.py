"""Dates as people read them, in the active language: "2 грудня 2026, 15:40", "середа, 2 грудня 2026".

Never ISO on a page. Ukrainian writes weekdays in lower case (Django's catalogue capitalises them as
if they stood alone), so a weekday after a comma reads "Сьогодні, середа, 2 грудня".
"""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language

DAY = "j E Y"
DAY_AND_TIME = "j E Y, H:i"


def _local(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def day_long(value) -> str:
    """2 грудня 2026 / 2 December 2026."""
    return date_format(_local(value), DAY) if value else ""


def when(value) -> str:
    """2 грудня 2026, 15:40 / 2 December 2026, 15:40 (in the current time zone)."""
    return date_format(_local(value), DAY_AND_TIME) if value else ""


def weekday(value) -> str:
    """середа / Wednesday: lower case in Ukrainian, as its typography wants inside a sentence."""
    if not value:
        return ""
    name = date_format(_local(value), "l")
    return name if (get_language() or "").startswith("en") else name.lower()


def weekday_day(value) -> str:
    """середа, 2 грудня 2026 / Wednesday, 2 December 2026."""
    return f"{weekday(value)}, {day_long(value)}" if value else ""


def weekday_when(value) -> str:
    """середа, 2 грудня 2026, 15:40 / Wednesday, 2 December 2026, 15:40."""
    return f"{weekday(value)}, {when(value)}" if value else ""
