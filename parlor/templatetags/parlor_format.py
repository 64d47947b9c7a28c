"""Template filters for dates as people read them (parlor.formats): {% load parlor_format %}."""

from django import template

from parlor import formats

register = template.Library()

register.filter("day_long", formats.day_long)
register.filter("when", formats.when)
register.filter("weekday", formats.weekday)
register.filter("weekday_day", formats.weekday_day)
register.filter("weekday_when", formats.weekday_when)
