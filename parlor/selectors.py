"""Reads about the parlor's resources."""

import datetime

from django.utils import timezone

from parlor.models import Masseur, TimeOff, WorkingHours


def working_hours_overlapping(
    *, masseur: Masseur, weekday: int, starts: datetime.time, ends: datetime.time, exclude_pk: int | None = None
) -> WorkingHours | None:
    """The first interval of this masseur on this weekday that overlaps [starts, ends), if any."""
    return (
        WorkingHours.objects.filter(masseur=masseur, weekday=weekday, starts__lt=ends, ends__gt=starts)
        .exclude(pk=exclude_pk)
        .first()
    )


def time_off_overlapping(
    *, masseur: Masseur, starts_at: datetime.datetime, ends_at: datetime.datetime, exclude_pk: int | None = None
) -> TimeOff | None:
    """The first time off of this masseur overlapping [starts_at, ends_at), if any."""
    return (
        TimeOff.objects.filter(masseur=masseur, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=exclude_pk)
        .first()
    )


def masseurs_working_on(day: datetime.date) -> list[tuple[Masseur, list[WorkingHours]]]:
    """Active masseurs with their working intervals on a day, less those on time off all that day.

    Two queries whatever the staff size: the hours with their masseurs, and the day's time off.
    """
    tz = timezone.get_current_timezone()
    day_start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    day_end = day_start + datetime.timedelta(days=1)
    hours = WorkingHours.objects.filter(weekday=day.weekday(), masseur__is_active=True).select_related("masseur")
    absent = set(
        TimeOff.objects.filter(starts_at__lte=day_start, ends_at__gte=day_end).values_list("masseur_id", flat=True)
    )
    by_masseur: dict[int, tuple[Masseur, list[WorkingHours]]] = {}
    for interval in hours.order_by("masseur__display_name", "starts"):
        if interval.masseur_id in absent:
            continue
        by_masseur.setdefault(interval.masseur_id, (interval.masseur, []))[1].append(interval)
    return list(by_masseur.values())
