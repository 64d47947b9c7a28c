"""Single appointments: booking one from a calendar slot, its page, and moving, cancelling or marking
a no-show. Also the helpers the course pages (sessions.booking.views.courses) share with these."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from clients.selectors import client_search
from parlor.formats import when
from parlor.models import MassageType, Masseur, Room
from parlor.view_helpers import add_errors, require_perm
from screening.access import open_health_record
from sessions.booking import gate, holds, selectors, services
from sessions.booking import page_selectors as booking_support
from sessions.booking.forms import AppointmentBookForm, AppointmentMoveForm, ReasonForm, ReleaseForm, parse_instant
from sessions.models import Appointment

ADD_APPOINTMENT = "treatments.add_appointment"
CHANGE_APPOINTMENT = "treatments.change_appointment"
VIEW_APPOINTMENT = "treatments.view_appointment"
CANDIDATES = 20


# --- shared with the course pages -----------------------------------------------------------


def offered_lists():
    """The offered massage types, the working masseurs (qualifications prefetched) and rooms in use."""
    return (
        list(MassageType.objects.active().order_by("name_en")),
        list(Masseur.objects.filter(is_active=True).prefetch_related("qualifications").order_by("display_name")),
        list(Room.objects.filter(is_active=True).order_by("name")),
    )


def can_override(request) -> bool:
    return request.user.has_perm(services.OVERRIDE_PERMISSION)


def may_book_closed(request) -> bool:
    return request.user.has_perm(selectors.BOOK_ON_CLOSED_DAY)


# --- single appointments --------------------------------------------------------------------


def appointment_book(request):
    """Book one session; a calendar slot's link pre-fills masseur, room, start, type and client."""
    require_perm(request, ADD_APPOINTMENT)
    massage_types, masseurs, rooms = offered_lists()
    query = request.GET.get("q", "").strip()
    bound = request.method == "POST"
    initial, param_errors = {}, {}
    if not bound:
        initial, param_errors = AppointmentBookForm.initial_from_params(
            request.GET, massage_types=massage_types, masseurs=masseurs, rooms=rooms
        )
    form = AppointmentBookForm(
        request.POST if bound else None,
        initial=initial,
        candidates=client_search(query, limit=CANDIDATES) if query or not initial.get("client") else [],
        massage_types=massage_types,
        masseurs=masseurs,
        rooms=rooms,
        may_override=can_override(request),
    )
    form.show_param_errors(param_errors)
    if bound and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                client=data["client"],
                massage_type=data["massage_type"],
                masseur=data["masseur"],
                room=data["room"],
                starts_at=data["starts_at"],
                booked_by=request.user,
                override_reason=data.get("override_reason", ""),
                request_key=data["request_key"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Booked: %(client)s, %(when)s with %(masseur)s.")
                % {
                    "client": appointment.client.full_name,
                    "when": when(appointment.starts_at),
                    "masseur": appointment.masseur.display_name,
                },
            )
            return redirect("sessions:appointment-detail", pk=appointment.pk)
    verdict, client = _form_verdict(form)
    return render(
        request,
        "sessions/appointment_book.html",
        {
            "form": form,
            "query": query,
            "verdict": verdict,
            "shows_health": verdict is not None and open_health_record(request, client),
            "params": request.GET,
        },
    )


def _form_verdict(form):
    """(The verdict for the client, type and day on the form so far, the client), or (None, None)."""
    if form.is_bound:
        values = getattr(form, "cleaned_data", {})
        client, massage_type, starts_at = values.get("client"), values.get("massage_type"), values.get("starts_at")
    else:
        from clients.models import Client

        client_pk = form.initial.get("client")
        client = Client.objects.filter(pk=client_pk).first() if client_pk else None
        massage_type = form.fields["massage_type"].objects.get(str(form.initial.get("massage_type")))
        starts_at = form.initial.get("starts_at")
    if not (client and massage_type and starts_at):
        return None, None
    day = selectors.local_date(starts_at)
    return booking_support.verdict_on(client=client, massage_type=massage_type, day=day), client


def _appointment_or_404(pk: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("client", "masseur", "room", "massage_type", "course").filter(pk=pk).first()
    )
    if appointment is None:
        raise Http404
    return appointment


def appointment_detail(request, pk):
    require_perm(request, VIEW_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    return render(request, "sessions/appointment_detail.html", _detail_context(request, appointment))


def _detail_context(request, appointment: Appointment, *, release_form: ReleaseForm | None = None) -> dict:
    """The appointment with the gate's verdict, its holds (why, who, when; the findings only for those who may
    see the health record), its overrides and what the user may do about a hold."""
    can_change = request.user.has_perm(CHANGE_APPOINTMENT)
    verdict = gate.appointment_gate(appointment)
    hold_history = holds.holds_of(appointment)
    hold = next((h for h in hold_history if h.is_open), None)
    refusal = holds.release_refusal(appointment, hold, verdict) if hold else None
    may_override = can_override(request)
    # The page shows findings, adaptations and override reasons to those who may see them: a trail entry.
    shows_health = open_health_record(request, appointment.client, obj=appointment)
    return {
        "appointment": appointment,
        "verdict": verdict,
        "progress": selectors.course_progress(course=appointment.course) if appointment.course_id else None,
        "is_upcoming": appointment.status in Appointment.UPCOMING,
        "has_started": appointment.starts_at <= timezone.now(),
        "can_change": can_change,
        "cancel_form": ReasonForm(),
        "can_view_health": shows_health,
        "shows_health": shows_health,
        "hold": hold,
        "hold_history": [h for h in hold_history if not h.is_open],
        "overrides": list(appointment.overrides.select_related("by")),
        # Reception releases once the verdict allows it; a block that remains needs the manager's override.
        "can_release": can_change and hold is not None and refusal is None,
        "release_refusal": refusal,
        "can_override_release": can_change and may_override and hold is not None and bool(verdict.blockers),
        "release_form": release_form or ReleaseForm(),
    }


@require_POST
def appointment_release(request, pk):
    """Release a hold: when the verdict allows the appointment again, or with a manager's written override."""
    require_perm(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            holds.appointment_release(
                appointment=appointment, by=request.user, override_reason=form.cleaned_data["override_reason"]
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The hold is released; the appointment is booked again."))
            return redirect("sessions:appointment-detail", pk=pk)
    appointment.refresh_from_db()
    return render(
        request,
        "sessions/appointment_detail.html",
        _detail_context(request, appointment, release_form=form),
        status=400,
    )


def appointment_move(request, pk):
    """New start, masseur or room. The page offers the free times of the appointment's day and the next
    days (its masseur's first); picking one (a link) fills the form and checks it. "Check" (or, with
    JavaScript, any change of a field) shows conflicts, free rooms and the course's gap warnings before
    "Move". The day view's drag posts here too (htmx): the move, or why not."""
    require_perm(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    if appointment.status not in Appointment.UPCOMING:
        message = _("Only an upcoming appointment can be moved.")
        if request.htmx:
            return render(request, "sessions/_move_check.html", {"problems": [message], "appointment": appointment})
        messages.error(request, message)
        return redirect("sessions:appointment-detail", pk=pk)
    _types, masseurs, rooms = offered_lists()
    data = _move_data(request, appointment)
    form = AppointmentMoveForm(
        data, appointment=appointment, masseurs=masseurs, rooms=rooms, may_override=can_override(request)
    )
    warnings, checked = [], False
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        if data.get("action") == "move":
            try:
                result = services.appointment_move(
                    appointment=appointment,
                    starts_at=cleaned["starts_at"],
                    masseur=cleaned["masseur"],
                    room=cleaned["room"],
                    moved_by=request.user,
                    override_reason=cleaned.get("override_reason", ""),
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Moved to %(when)s.") % {"when": when(result.appointment.starts_at)})
                for warning in result.warnings:
                    messages.warning(request, warning)
                if request.htmx:
                    # The drag: the calendar reloads with the appointment in its new place.
                    return HttpResponseClientRefresh()
                return redirect("sessions:appointment-detail", pk=pk)
        else:
            errors = selectors.appointment_conflicts(
                client=appointment.client,
                massage_type=appointment.massage_type,
                masseur=cleaned["masseur"],
                room=cleaned["room"],
                starts_at=cleaned["starts_at"],
                exclude_pk=appointment.pk,
                may_book_closed=may_book_closed(request),
            )
            for field, field_errors in errors.items():
                form.add_error(field if field in form.fields else None, field_errors)
            checked = not errors
    # What the form holds now (checked, or a move refused): its gap warnings and free rooms before confirming.
    starts_at = (getattr(form, "cleaned_data", None) or {}).get("starts_at")
    if starts_at and appointment.course_id:
        warnings = selectors.course_gap_warnings(
            course=appointment.course, starts_at=starts_at, exclude_pk=appointment.pk
        )
    context = {
        "form": form,
        "appointment": appointment,
        "warnings": warnings,
        "checked": checked,
        "problems": [str(e) for e in form.non_field_errors()] if form.is_bound else [],
        "free_rooms": booking_support.free_rooms_at(
            starts_at=starts_at,
            blocks_until=starts_at + (appointment.blocks_until - appointment.starts_at),
            exclude_pk=appointment.pk,
        )
        if starts_at and form.is_bound
        else None,
    }
    if request.htmx:
        context["field_problems"] = [
            f"{form.fields[name].label}: {' '.join(errors)}"
            for name, errors in form.errors.items()
            if name in form.fields
        ]
        return render(request, "sessions/_move_check.html", context)
    # As the move will judge it: on the new day, the blocks the appointment's overrides cover lifted.
    context["verdict"] = booking_support.verdict_on(
        client=appointment.client,
        massage_type=appointment.massage_type,
        day=selectors.local_date(starts_at or appointment.starts_at),
    ).overridden(gate.covered_codes(appointment))
    context["shows_health"] = open_health_record(request, appointment.client, obj=appointment)
    context["suggestions"] = booking_support.move_suggestions(appointment=appointment)
    return render(request, "sessions/appointment_move.html", context)


def _move_data(request, appointment: Appointment):
    """What the move form is bound to: the POST; a suggested time's link (GET, checked at once); or None.
    A drag on the day view (htmx) names the start and the masseur, or the room: the rest stays as it is, and
    the room is the appointment's own when free then, else a free one."""
    if request.method == "POST":
        data = request.POST.copy()
        if request.htmx and data.get("drag"):
            if not data.get("masseur"):
                data["masseur"] = str(appointment.masseur_id)
            starts_at = parse_instant(data.get("starts_at", ""))
            if not data.get("room") and starts_at is not None:
                data["room"] = str(booking_support.room_for_move(appointment=appointment, starts_at=starts_at).pk)
            data["action"] = "move"
        return data
    if request.GET.get("starts_at"):
        data = request.GET.copy()
        data["action"] = "check"
        data.setdefault("masseur", str(appointment.masseur_id))
        data.setdefault("room", str(appointment.room_id))
        return data
    return None


def appointment_cancel(request, pk):
    """A reason is required; only a POST cancels."""
    require_perm(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The appointment is cancelled."))
            return redirect("sessions:appointment-detail", pk=pk)
    return render(request, "sessions/appointment_cancel.html", {"form": form, "appointment": appointment})


@require_POST
def appointment_no_show(request, pk):
    require_perm(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    try:
        services.appointment_mark_no_show(appointment=appointment, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Marked as a no-show."))
    return redirect(reverse("sessions:appointment-detail", args=[pk]))


urlpatterns = [
    path("appointments/new/", appointment_book, name="appointment-book"),
    path("appointments/<int:pk>/", appointment_detail, name="appointment-detail"),
    path("appointments/<int:pk>/move/", appointment_move, name="appointment-move"),
    path("appointments/<int:pk>/cancel/", appointment_cancel, name="appointment-cancel"),
    path("appointments/<int:pk>/no-show/", appointment_no_show, name="appointment-no-show"),
    path("appointments/<int:pk>/release/", appointment_release, name="appointment-release"),
]
