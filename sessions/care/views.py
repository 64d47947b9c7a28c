"""The masseur's pages: My day, the review before a session, the check-in, the session log and
the client's history. A masseur sees only their own appointments; the manager sees all."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clients.models import Client
from clients.trail import record_access
from parlor.view_helpers import add_errors, require_perm
from screening.access import ALL_HEALTH_RECORDS_PERMISSION, can_view_health_record, open_health_record
from sessions.booking import holds
from sessions.care import checkin, history, logs, myday, review
from sessions.care import outcomes as care_outcomes
from sessions.care.forms import AddendumForm, DayOfCheckForm, SessionLogForm
from sessions.flags import scan as flag_scan
from sessions.flags import services as flags
from sessions.localtime import local_date
from sessions.models import Appointment, Flag, SessionLog


def _appointment_for(request, pk) -> Appointment:
    """The appointment, when the user is its masseur or may review any; 403 otherwise."""
    appointment = get_object_or_404(
        Appointment.objects.select_related("client", "massage_type", "masseur", "room", "course"), pk=pk
    )
    if not myday.may_work_on(request.user, appointment):
        raise PermissionDenied
    return appointment


def _log_of(appointment: Appointment) -> SessionLog | None:
    return SessionLog.objects.select_related("signed_by", "created_by").filter(appointment=appointment).first()


@never_cache
def my_day(request):
    me = myday.masseur_of(request.user)
    if me is None:
        raise PermissionDenied
    today = timezone.localdate()
    rows = myday.my_day(masseur=me, day=today)
    return render(request, "sessions/myday.html", {"today": today, "rows": rows, "me": me})


@never_cache
def appointment_review(request, pk):
    appointment = _appointment_for(request, pk)
    if appointment.status in checkin.STARTABLE:
        # The scan may not have run since the last screening: opening the review raises
        # what changed at once (and holds the appointment for a new absolute contraindication).
        flag_scan.flags_check(appointment=appointment, source="review")
    baseline = flags.baseline_for(appointment=appointment)
    context = {
        "appointment": appointment,
        "verdict": logs.verdict_for_appointment(appointment),
        "can_view_health": open_health_record(request, appointment.client, obj=appointment),
        "baseline": baseline,
        "diff": None if baseline.same else baseline.diff,
        "flags": flags.flags_of(appointment=appointment),
        "recent_logs": logs.signed_logs_of_client(client_id=appointment.client_id, before=appointment.starts_at),
        "chart": review.pain_trend(appointment=appointment),
        "log": _log_of(appointment),
        "can_start": appointment.status in checkin.STARTABLE,
        "hold": holds.open_hold(appointment) if appointment.status == Appointment.Status.ON_HOLD else None,
    }
    context["open_flags"] = [f for f in context["flags"] if f.is_open]
    return render(request, "sessions/review.html", context)


@require_POST
def flag_acknowledge(request, pk):
    flag = get_object_or_404(Flag.objects.select_related("appointment__masseur"), pk=pk)
    if not (request.user.has_perm("treatments.change_flag") and myday.may_work_on(request.user, flag.appointment)):
        raise PermissionDenied
    flags.flag_acknowledge(flag=flag, by=request.user)
    messages.success(request, _("The flag is acknowledged."))
    return redirect("sessions:appointment-review", pk=flag.appointment_id)


@never_cache
def appointment_checkin(request, pk):
    appointment = _appointment_for(request, pk)
    if not request.user.has_perm("treatments.add_dayofcheck"):
        raise PermissionDenied
    self_reported = checkin.self_reported_screening(appointment)
    form = DayOfCheckForm(
        request.POST or None,
        ask_menstruation=checkin.asks_menstruation(appointment.client, on=local_date(appointment.starts_at)),
        self_reported=self_reported,
    )
    if request.method == "POST" and form.is_valid():
        try:
            check = checkin.appointment_check_in(
                appointment=appointment,
                answers=form.answers(),
                by=request.user,
                confirmed_screening_id=form.confirmed_screening_id(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if check.outcome == check.Outcome.ON_HOLD:
                messages.warning(
                    request,
                    _("The appointment is on hold (%(reason)s); the reception is told to call the client.")
                    % {"reason": check.hold_reason},
                )
                return redirect("sessions:my-day")
            messages.success(request, _("The client is checked in."))
            return redirect("sessions:sessionlog-edit", pk=appointment.pk)
    context = {
        "appointment": appointment,
        "form": form,
        "open_flags": flags.open_flags(appointment=appointment),
        "self_reported": self_reported,
        "can_view_health": self_reported is not None and can_view_health_record(request.user, appointment.client),
    }
    return render(request, "sessions/checkin.html", context)


@never_cache
def sessionlog_edit(request, pk):
    appointment = _appointment_for(request, pk)
    if not request.user.has_perm("treatments.view_sessionlog"):
        raise PermissionDenied
    log = _log_of(appointment)
    # Either page shows health data (what is never worked or used, or the log's notes): the trail notes it.
    record_access(request, client=appointment.client, obj=log or appointment)
    if log is not None and log.is_signed:
        return _signed_log(request, appointment, log)
    if not request.user.has_perm("treatments.change_sessionlog"):
        raise PermissionDenied
    verdict = logs.verdict_for_appointment(appointment)
    avoid = logs.must_avoid(verdict)
    noted = [area for area in logs.noted_areas(verdict) if area not in avoid]
    initial = SessionLogForm.initial_for(log=log, verdict=verdict, must_avoid=avoid + noted)
    form = SessionLogForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sign = "sign" in request.POST
        try:
            logs.sessionlog_save(
                appointment=appointment,
                data=form.log_input(),
                by=request.user,
                log_id=form.cleaned_data["log_id"],
                sign=sign,
                verdict=verdict,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if sign:
                messages.success(request, _("The session log is signed; the session is complete."))
            else:
                messages.success(request, _("The draft is saved."))
            return redirect("sessions:sessionlog-edit", pk=appointment.pk)
    context = {"appointment": appointment, "form": form, "log": log, "verdict": verdict, "must_avoid": avoid + noted}
    return render(request, "sessions/sessionlog_edit.html", context)


def _signed_log(request, appointment, log):
    """The signed log read-only; a POST adds an addendum (never changes the log)."""
    form = AddendumForm(request.POST or None)
    if request.method == "POST":
        if "text" not in request.POST:
            # A stale form from before signing: say so and keep nothing half-done.
            messages.error(request, _("This session log is signed and cannot be changed; add an addendum instead."))
            return redirect("sessions:sessionlog-edit", pk=appointment.pk)
        if not request.user.has_perm("treatments.add_sessionlogaddendum"):
            raise PermissionDenied
        if form.is_valid():
            try:
                logs.sessionlog_add_addendum(log=log, text=form.cleaned_data["text"], by=request.user)
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The addendum is added."))
                return redirect("sessions:sessionlog-edit", pk=appointment.pk)
    context = {
        "appointment": appointment,
        "log": log,
        "addenda": list(log.addenda.select_related("author")),
        "form": form,
    }
    return render(request, "sessions/sessionlog_signed.html", context)


def _id_param(request, name: str) -> int | None:
    try:
        return int(request.GET.get(name) or 0) or None
    except ValueError:
        return None


def _history_query(course, **params) -> str:
    # The course filter goes with every link of the page, so paging never loses it.
    return urlencode({**({"course": course.pk} if course else {}), **params})


@never_cache
def client_history(request, pk):
    """The newest sessions in full and a link to the earlier ones (htmx puts them in the link's place;
    without JavaScript it opens their page); ?all=1 is the whole history, for printing."""
    client = get_object_or_404(Client, pk=pk)
    if not open_health_record(request, client):
        raise PermissionDenied
    whole = request.GET.get("all") == "1"
    record = history.client_history(
        client=client,
        course_id=_id_param(request, "course"),
        before=None if whole else _id_param(request, "before"),
        limit=None if whole else history.PAGE_SESSIONS,
    )
    context = {
        "history": record,
        "client": client,
        "complete": record.earlier is None and record.before is None,
        "earlier_query": _history_query(record.course, before=record.earlier),
        "latest_query": _history_query(record.course),
        "whole_query": _history_query(record.course, all=1),
        "points_svg": history.chart_points_svg(record.chart),
    }
    if request.htmx and record.before is not None:
        return render(request, "sessions/_history_entries.html", context)
    return render(request, "sessions/history_client.html", context)


def outcomes(request):
    """The manager's outcome view: average pain drop per massage type and indication, as a chart."""
    require_perm(request, ALL_HEALTH_RECORDS_PERMISSION)
    rows = care_outcomes.course_outcomes()
    return render(request, "sessions/outcomes.html", {"outcomes": rows, "chart": care_outcomes.outcome_chart(rows)})


urlpatterns = [
    path("my-day/", my_day, name="my-day"),
    path("appointments/<int:pk>/review/", appointment_review, name="appointment-review"),
    path("appointments/<int:pk>/check-in/", appointment_checkin, name="appointment-checkin"),
    path("appointments/<int:pk>/log/", sessionlog_edit, name="sessionlog-edit"),
    path("flags/<int:pk>/acknowledge/", flag_acknowledge, name="flag-acknowledge"),
    path("clients/<int:pk>/history/", client_history, name="client-history"),
    path("outcomes/", outcomes, name="outcomes"),
]
