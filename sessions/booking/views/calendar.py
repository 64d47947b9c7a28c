"""The calendar: a day with a column per masseur (or per room), a masseur's week.

Everyone who may view appointments sees it; the empty cells link to the
booking form only for those who may add appointments, so a masseur sees the
calendar read-only.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.trail import record_access_many
from parlor.models import Masseur
from screening.access import health_record_clients
from sessions.booking import calendar
from sessions.booking.selectors import BOOK_ON_CLOSED_DAY

VIEW_PERMISSION = "treatments.view_appointment"
BOOK_PERMISSION = "treatments.add_appointment"
MOVE_PERMISSION = "treatments.change_appointment"


def _check(request) -> bool:
    """403 without the view permission; returns whether the user may book."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    return request.user.has_perm(BOOK_PERMISSION)


def parse_day(value: str) -> datetime.date:
    """A calendar date from a URL; a malformed or far-off one is a page that does not exist."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Http404(_("No such date.")) from None
    if not calendar.MIN_DATE <= day <= calendar.MAX_DATE:
        raise Http404(_("No such date."))
    return day


def _nav(day: datetime.date, step: int) -> dict:
    return {
        "previous": day - datetime.timedelta(days=step),
        "next": day + datetime.timedelta(days=step),
        "today": timezone.localdate(),
    }


def calendar_day(request, day: str | None = None):
    can_book = _check(request)
    if day is None:
        picked = request.GET.get("date")
        if picked:
            # The date picker: a good date gets its own address, a bad one today's page and a message.
            try:
                return redirect("sessions:calendar-day", day=parse_day(picked).isoformat())
            except Http404:
                messages.error(request, _("“%(value)s” is not a date; showing today.") % {"value": picked[:40]})
        on = timezone.localdate()
    else:
        on = parse_day(day)
    by = "rooms" if request.GET.get("by") == "rooms" else "masseurs"
    data = calendar.day_calendar(
        day=on,
        by=by,
        can_book=can_book,
        viewer=request.user,
        may_book_closed=request.user.has_perm(BOOK_ON_CLOSED_DAY),
    )
    can_move = request.user.has_perm(MOVE_PERMISSION)
    context = {
        "calendar": data,
        # By room each entry names its masseur; by masseur, its room.
        "grid_lines": data.grid.lines(can_move=can_move, show_masseur=by == "rooms", show_room=by != "rooms"),
        "day": on,
        "by": by,
        "can_book": can_book,
        "can_move": can_move,
        "own_masseur_id": _own_sheet_with_health(request, data),
        **_nav(on, 1),
    }
    return render(request, "sessions/calendar_day.html", context)


def _own_sheet_with_health(request, data: calendar.DayCalendar) -> int | None:
    """The masseur whose printed sheet carries what the screening says of each client: the viewer's own, when
    they may see those records (the trail notes each one); None for everyone else. At most three queries."""
    own = next((masseur for masseur, _entries in data.sheets if masseur.user_id == request.user.pk), None)
    if own is None:
        return None
    entries = dict(data.sheets)[own]
    visible = health_record_clients(request.user, {e.appointment.client_id for e in entries})
    shown = [(e.appointment.client, e.appointment) for e in entries if e.appointment.client_id in visible and e.verdict]
    if not shown:
        return None
    record_access_many(request, pairs=shown)
    return own.pk


def calendar_week(request, day: str | None = None):
    can_book = _check(request)
    on = parse_day(day) if day is not None else timezone.localdate()
    masseurs = list(Masseur.objects.filter(is_active=True).order_by("display_name", "pk"))
    raw = request.GET.get("masseur")
    if raw:
        if not raw.isdigit():
            raise Http404(_("No such masseur."))
        masseur = next((m for m in masseurs if m.pk == int(raw)), None) or get_object_or_404(Masseur, pk=int(raw))
    else:
        # A masseur sees their own week first; anybody else the first masseur's.
        own = getattr(request.user, "masseur", None)
        masseur = own or (masseurs[0] if masseurs else None)
    if masseur is None:
        context = {"calendar": None, "masseurs": masseurs, "day": on, **_nav(on, 7)}
        return render(request, "sessions/calendar_week.html", context)
    data = calendar.week_calendar(
        masseur=masseur,
        day=on,
        can_book=can_book,
        viewer=request.user,
        may_book_closed=request.user.has_perm(BOOK_ON_CLOSED_DAY),
    )
    if masseur not in masseurs:
        masseurs.append(masseur)
    context = {
        "calendar": data,
        # The week has no dragging; its entries name their room.
        "grid_lines": data.grid.lines(can_move=False, show_room=True),
        "masseur": masseur,
        "masseurs": masseurs,
        "day": on,
        "can_book": can_book,
        **_nav(data.monday, 7),
    }
    return render(request, "sessions/calendar_week.html", context)


urlpatterns = [
    path("calendar/", calendar_day, name="calendar-day"),
    path("calendar/week/", calendar_week, name="calendar-week"),
    path("calendar/week/<str:day>/", calendar_week, name="calendar-week"),
    path("calendar/<str:day>/", calendar_day, name="calendar-day"),
]
