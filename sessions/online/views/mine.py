""" "My appointments" for the signed-in client: upcoming and past visits, cancelling or moving one until the
reminder policy's cut-off, its calendar file. Only the client's own: another client's id is a 404."""

import datetime
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from parlor.models import Masseur
from sessions.models import Appointment, ReminderPolicy
from sessions.online import selectors, services
from sessions.online.views.public import _client_or_redirect, _parlor, error_code
from sessions.reminders import calendar_files, client_actions


def _own(client, pk: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("massage_type", "masseur", "room", "course")
        .filter(pk=pk, client=client)
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


@login_not_required
@require_http_methods(["GET", "HEAD"])
def my(request):
    """The client's upcoming and past visits and waiting-list entries."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    now = timezone.now()
    policy = ReminderPolicy.current()
    data = selectors.my_appointments(client=client, now=now)
    upcoming = [
        {
            "appointment": appointment,
            "can_change": services.can_change(appointment, now=now, policy=policy),
            "deadline": client_actions.cancel_deadline(appointment=appointment, policy=policy),
        }
        for appointment in data.upcoming
    ]
    return render(
        request,
        "sessions/online_my.html",
        {"client": client, "upcoming": upcoming, "past": data.past, "waiting": data.waiting, **_parlor()},
    )


@login_not_required
@require_POST
def my_cancel(request, pk: int):
    """Cancel one of the client's appointments until the cut-off."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    appointment = _own(client, pk)
    try:
        services.appointment_cancel_online(client=client, appointment=appointment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your appointment is cancelled."))
    return redirect("online:my")


def _day(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_move(request, pk: int):
    """Pick a day and one of its free times for the same massage; the POST moves it."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    appointment = _own(client, pk)
    now = timezone.now()
    can_change = services.can_change(appointment, now=now, policy=ReminderPolicy.current())
    any_masseur = request.GET.get("masseur") == "any"
    masseur: Masseur | None = None if any_masseur else appointment.masseur
    if request.method == "POST" and can_change:
        starts_at = _instant(request.POST.get("starts_at"))
        if request.POST.get("masseur") == "any":
            masseur = None
        if starts_at is None:
            messages.error(request, _("Choose one of the free times."))
        else:
            try:
                services.appointment_move_online(
                    client=client, appointment=appointment, starts_at=starts_at, masseur=masseur
                )
            except ValidationError as exc:
                if error_code(exc) == services.TAKEN:
                    messages.warning(request, _("Someone has just taken this time. Please choose another one."))
                else:
                    messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Your appointment is moved."))
                return redirect("online:my")
    today = timezone.localdate()
    day = _day(request.GET.get("day")) or max(today, timezone.localtime(appointment.starts_at).date())
    day_error = ""
    if not today <= day <= today + datetime.timedelta(days=selectors.MAX_DAYS_AHEAD):
        day_error = _("Choose a day from today to %(days)s days ahead.") % {"days": selectors.MAX_DAYS_AHEAD}
        day = today
    times = selectors.free_times(massage_type=appointment.massage_type, day=day, masseur=masseur) if can_change else []
    return render(
        request,
        "sessions/online_move.html",
        {
            "appointment": appointment,
            "can_change": can_change,
            "day": day,
            "day_error": day_error,
            "any_masseur": any_masseur,
            "times": times,
            **_parlor(),
        },
    )


def _instant(value) -> datetime.datetime | None:
    try:
        instant = datetime.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if timezone.is_aware(instant) else None


@login_not_required
@require_http_methods(["GET", "HEAD"])
def my_calendar(request, pk: int):
    """The calendar file of one upcoming appointment (the same event every email's file carries)."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    appointment = _own(client, pk)
    if appointment.status not in Appointment.UPCOMING:
        raise Http404
    language = (get_language() or client.language or "uk")[:2]
    event = SimpleNamespace(
        pk=appointment.pk,
        massage_type=appointment.massage_type.name_en if language == "en" else appointment.massage_type.name_uk,
        starts_utc=appointment.starts_at,
        ends_utc=appointment.ends_at,
        sequence=appointment.calendar_sequence,
    )
    content = calendar_files.calendar([event], method=calendar_files.REQUEST, language=language)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response
