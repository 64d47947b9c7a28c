"""The parlor's calendar of days: Ukraine's public holidays (the `holidays` package) and the days the
manager closed (ClosedDay). Pages mark the holidays; availability, course proposals and the booking
checks ask which days are closed."""

import datetime
import functools

import holidays
from django.utils.translation import get_language

from parlor.models import ClosedDay

# Under martial law the package files Ukraine's holidays as "workday" (they are working days);
# before 2022 as "public". Both are the holidays the calendars mark.
_CATEGORIES = ("public", "workday")


def _language() -> str:
    return "en_US" if (get_language() or "uk").startswith("en") else "uk"


def public_holidays(start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
    """Ukraine's public holidays from start to end inclusive, named in the page's language. No query."""
    if end < start:
        return {}
    language = _language()
    return {
        day: name
        for year in range(start.year, end.year + 1)
        for day, name in _year(year, language)
        if start <= day <= end
    }


@functools.lru_cache(maxsize=64)
def _year(year: int, language: str) -> tuple[tuple[datetime.date, str], ...]:
    # The package builds a year's calendar anew on every call (~1 ms): every calendar page asks.
    calendar = holidays.country_holidays("UA", years=year, categories=_CATEGORIES, language=language)
    return tuple(sorted(calendar.items()))


def closed_days(start: datetime.date, end: datetime.date) -> dict[datetime.date, ClosedDay]:
    """The days the manager closed from start to end inclusive. One query."""
    return {closed.day: closed for closed in ClosedDay.objects.filter(day__gte=start, day__lte=end)}


def closed_on(day: datetime.date) -> ClosedDay | None:
    """The ClosedDay of this day, if the parlor is closed then. One query."""
    return ClosedDay.objects.filter(day=day).first()


def closed_reason(closed: ClosedDay, holiday_names: dict[datetime.date, str] | None = None) -> str:
    """Why the day is closed, as people read it: the manager's words, else the holiday's name."""
    if closed.reason:
        return closed.reason
    names = holiday_names if holiday_names is not None else public_holidays(closed.day, closed.day)
    return names.get(closed.day, "")
