"""Booking pages: a course with its proposed schedule, the course page (cancel the rest, extend,
shorten), a single appointment from a calendar slot, and moving, cancelling or marking a no-show."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from clients.selectors import client_search
from parlor.models import MassageType, Masseur, Room
from sessions import booking_support, selectors, services
from sessions.booking_support import SessionRow
from sessions.forms.booking import (
    AppointmentBookForm,
    AppointmentMoveForm,
    CourseExtendForm,
    CourseForm,
    CourseShortenForm,
    ReasonForm,
    SessionFormSet,
)
from sessions.models import MAX_COURSE_SESSIONS, Appointment

ADD_COURSE = "treatments.add_course"
CHANGE_COURSE = "treatments.change_course"
VIEW_COURSE = "treatments.view_course"
ADD_APPOINTMENT = "treatments.add_appointment"
CHANGE_APPOINTMENT = "treatments.change_appointment"
VIEW_APPOINTMENT = "treatments.view_appointment"
CANDIDATES = 20


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _lists():
    """The offered massage types, the working masseurs (qualifications prefetched) and rooms in use."""
    return (
        list(MassageType.objects.active().order_by("name_en")),
        list(Masseur.objects.filter(is_active=True).prefetch_related("qualifications").order_by("display_name")),
        list(Room.objects.filter(is_active=True).order_by("name")),
    )


def _may_override(request) -> bool:
    return request.user.has_perm(services.OVERRIDE_PERMISSION)


def _rows_of(formset) -> list[SessionRow]:
    return [SessionRow(f.cleaned_data["starts_at"], f.cleaned_data["masseur"], f.cleaned_data["room"]) for f in formset]


def _row_initial(sessions) -> list[dict]:
    return [
        {
            "starts_at": timezone.localtime(s.starts_at),
            "masseur": s.masseur.pk if s.masseur else None,
            "room": s.room.pk if s.room else None,
        }
        for s in sessions
    ]


def _schedule_context(*, client, massage_type, schedule, formset) -> dict:
    """The schedule table (each row's form, conflicts, warnings and that day's verdict) and the verdict
    on top: the first session's, with a flag when any day is blocked (the manager's override field)."""
    verdicts = booking_support.verdicts_by_day(
        client=client,
        massage_type=massage_type,
        days={selectors.local_date(s.starts_at) for s in schedule},
    )
    rows = [
        (form, session, verdicts.get(selectors.local_date(session.starts_at)))
        for form, session in zip(formset.forms, schedule, strict=False)
    ]
    first = min(schedule, key=lambda s: s.starts_at) if schedule else None
    statuses = {str(v.status) for v in verdicts.values()}
    return {
        "rows": rows,
        "verdict": verdicts.get(selectors.local_date(first.starts_at)) if first else None,
        "any_blocked": "blocked" in statuses,
        "all_bookable": all(v.is_bookable for v in verdicts.values()),
    }


def _book_sessions(formset, rows, book):
    """Book the rows in time order with `book(sessions)`; a CourseBookingError (nothing booked) is put
    beside each failing row and returned as [(row number, failure)]."""
    order = sorted(range(len(rows)), key=lambda i: rows[i].starts_at)
    try:
        return book([(rows[i].starts_at, rows[i].masseur, rows[i].room) for i in order]), []
    except services.CourseBookingError as exc:
        failures = []
        for failure in exc.failures:
            index = order[failure.number - 1]
            formset.forms[index].add_error(None, failure.messages)
            failures.append((index + 1, failure))
        return None, sorted(failures, key=lambda pair: pair[0])


# --- courses --------------------------------------------------------------------------------


def course_create(request):
    """Enter a course, see the proposed schedule, change single sessions, re-check, book all or none."""
    _require(request, ADD_COURSE)
    massage_types, masseurs, rooms = _lists()
    query = request.GET.get("q", "").strip()
    bound = request.method == "POST"
    initial, param_errors = {}, {}
    if not bound:
        initial, param_errors = AppointmentBookForm.initial_from_params(
            {key: request.GET.get(key, "") for key in ("client", "massage_type")},
            massage_types=massage_types,
            masseurs=masseurs,
            rooms=rooms,
        )
    form = CourseForm(
        request.POST if bound else None,
        initial=initial,
        candidates=client_search(query, limit=CANDIDATES) if query or not initial.get("client") else [],
        massage_types=massage_types,
        masseurs=masseurs,
        may_override=_may_override(request),
    )
    form.show_param_errors(param_errors)
    action = request.POST.get("action", "propose")
    context = {"form": form, "query": query, "failures": []}
    if bound and form.is_valid():
        data = form.cleaned_data
        client, massage_type = data["client"], data["massage_type"]
        row_kwargs = {"masseurs": masseurs, "rooms": rooms, "massage_type": massage_type}
        formset, schedule = None, None
        if action in ("check", "book") and "s-TOTAL_FORMS" in request.POST:
            formset = SessionFormSet(request.POST, prefix="s", form_kwargs=row_kwargs)
            if formset.is_valid():
                rows = _rows_of(formset)
                if action == "book":
                    course, context["failures"] = _book_sessions(
                        formset,
                        rows,
                        lambda sessions: services.course_book(
                            client=client,
                            massage_type=massage_type,
                            indication=data["indication"],
                            planned_sessions=data["planned_sessions"],
                            cadence=data["cadence"],
                            weekdays=data["weekdays"],
                            preferred_masseur=data["preferred_masseur"],
                            preferred_time=data["preferred_time"],
                            sessions=sessions,
                            booked_by=request.user,
                            override_reason=data.get("override_reason", ""),
                            request_key=data["request_key"],
                        ),
                    )
                    if course is not None:
                        messages.success(
                            request,
                            ngettext(
                                "Course booked: %(count)s session.", "Course booked: %(count)s sessions.", len(rows)
                            )
                            % {"count": len(rows)},
                        )
                        return redirect("sessions:course-detail", pk=course.pk)
                schedule = booking_support.check_sessions(client=client, massage_type=massage_type, rows=rows)
        else:
            try:
                schedule = services.course_propose(
                    client=client,
                    massage_type=massage_type,
                    start_date=data["start_date"],
                    planned_sessions=data["planned_sessions"],
                    cadence=data["cadence"],
                    weekdays=data["weekdays"],
                    masseur=data["preferred_masseur"],
                    preferred_time=data["preferred_time"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                formset = SessionFormSet(prefix="s", initial=_row_initial(schedule), form_kwargs=row_kwargs)
        if formset is not None:
            context["formset"] = formset
            if schedule is not None:
                context.update(
                    _schedule_context(client=client, massage_type=massage_type, schedule=schedule, formset=formset)
                )
            else:
                context["rows"] = [(f, None, None) for f in formset.forms]
    return render(request, "sessions/course_create.html", context)


def _course_page_or_404(pk: int) -> booking_support.CoursePage:
    page = booking_support.course_page(pk=pk)
    if page is None:
        raise Http404
    return page


def _render_course(request, page, *, cancel_form=None, shorten_form=None, status=200):
    upcoming = page.upcoming
    can_change = request.user.has_perm(CHANGE_COURSE)
    return render(
        request,
        "sessions/course_detail.html",
        {
            "page": page,
            "course": page.course,
            "entries": [(a, page.verdicts.get(a.pk)) for a in page.appointments],
            "upcoming_count": len(upcoming),
            "can_change": can_change and page.course.status != page.course.Status.CANCELLED,
            "can_change_appointment": request.user.has_perm(CHANGE_APPOINTMENT),
            "can_extend": can_change and page.booked < MAX_COURSE_SESSIONS,
            "cancel_form": cancel_form or ReasonForm(prefix="rest"),
            "shorten_form": shorten_form
            or CourseShortenForm(
                prefix="shorten",
                upcoming=len(upcoming),
                initial={"expect_last": upcoming[-1].pk if upcoming else None},
            ),
            "now": timezone.now(),
            "upcoming_statuses": Appointment.UPCOMING,
        },
        status=status,
    )


def course_detail(request, pk):
    _require(request, VIEW_COURSE)
    return _render_course(request, _course_page_or_404(pk))


@require_POST
def course_cancel_rest(request, pk):
    _require(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    form = ReasonForm(request.POST, prefix="rest")
    if form.is_valid():
        try:
            count = services.course_cancel_rest(course=page.course, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "The course is cancelled; %(count)s upcoming session cancelled.",
                    "The course is cancelled; %(count)s upcoming sessions cancelled.",
                    count,
                )
                % {"count": count},
            )
            return redirect("sessions:course-detail", pk=pk)
    return _render_course(request, page, cancel_form=form, status=400)


@require_POST
def course_shorten(request, pk):
    """Cancel the last N upcoming sessions of the course (all or none)."""
    _require(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    upcoming = page.upcoming
    form = CourseShortenForm(request.POST, prefix="shorten", upcoming=len(upcoming))
    if form.is_valid():
        # The page said which session was last: a second submit of the same form (or a change by
        # someone else meanwhile) must not cancel N more.
        if not upcoming or form.cleaned_data["expect_last"] != upcoming[-1].pk:
            form.add_error(None, _("The course changed meanwhile; check its sessions and try again."))
        else:
            doomed = upcoming[-form.cleaned_data["count"] :]
            try:
                with transaction.atomic():
                    for appointment in doomed:
                        services.appointment_cancel(
                            appointment=appointment, reason=form.cleaned_data["reason"], by=request.user
                        )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    ngettext(
                        "The course is shorter by %(count)s session.",
                        "The course is shorter by %(count)s sessions.",
                        len(doomed),
                    )
                    % {"count": len(doomed)},
                )
                return redirect("sessions:course-detail", pk=pk)
    return _render_course(request, page, shorten_form=form, status=400)


def _book_extension(*, course, sessions, booked_by, override_reason, request_key):
    """Book the extra sessions into the course, all or none. Each row gets a key derived from the
    form's, so submitting the same form twice finds the sessions it booked the first time."""
    failures = []
    with transaction.atomic():
        for number, (starts_at, masseur, room) in enumerate(sessions, start=1):
            try:
                services.appointment_book(
                    client=course.client,
                    massage_type=course.massage_type,
                    masseur=masseur,
                    room=room,
                    starts_at=starts_at,
                    booked_by=booked_by,
                    course=course,
                    override_reason=override_reason,
                    request_key=uuid.uuid5(request_key, str(number)),
                )
            except ValidationError as exc:
                failures.append(services.SessionFailure(number, starts_at, exc.messages))
        if failures:
            raise services.CourseBookingError(failures)
    return course


def course_extend(request, pk):
    """Propose N more sessions after the last one, change them if needed, book all or none."""
    _require(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    course = page.course
    if course.status == course.Status.CANCELLED:
        messages.error(request, _("The course is cancelled."))
        return redirect("sessions:course-detail", pk=pk)
    _types, masseurs, rooms = _lists()
    row_kwargs = {"masseurs": masseurs, "rooms": rooms, "massage_type": course.massage_type}
    bound = request.method == "POST"
    form = CourseExtendForm(request.POST if bound else None, room_left=MAX_COURSE_SESSIONS - page.booked)
    may_override = _may_override(request)
    action = request.POST.get("action", "propose")
    request_key = _uuid_or_new(request.POST.get("request_key"))
    override_reason = request.POST.get("override_reason", "") if may_override else ""
    context = {
        "page": page,
        "course": course,
        "form": form,
        "failures": [],
        "request_key": request_key,
        "may_override": may_override,
        "override_reason": override_reason,
    }
    last = page.last_live
    last_day = selectors.local_date(last.starts_at) if last else None
    if bound and form.is_valid():
        formset, schedule = None, None
        if action in ("check", "book") and "s-TOTAL_FORMS" in request.POST:
            formset = SessionFormSet(request.POST, prefix="s", form_kwargs=row_kwargs)
            if formset.is_valid():
                rows = _rows_of(formset)
                if action == "book":
                    booked, context["failures"] = _book_sessions(
                        formset,
                        rows,
                        lambda sessions: _book_extension(
                            course=course,
                            sessions=sessions,
                            booked_by=request.user,
                            override_reason=override_reason,
                            request_key=request_key,
                        ),
                    )
                    if booked is not None:
                        messages.success(
                            request,
                            ngettext(
                                "%(count)s session added to the course.",
                                "%(count)s sessions added to the course.",
                                len(rows),
                            )
                            % {"count": len(rows)},
                        )
                        return redirect("sessions:course-detail", pk=pk)
                schedule = booking_support.check_sessions(
                    client=course.client,
                    massage_type=course.massage_type,
                    rows=rows,
                    earlier_days=[last_day] if last_day else [],
                )
        else:
            start = booking_support.next_course_day(course, last_day) if last_day else timezone.localdate()
            masseur = last.masseur if last else course.preferred_masseur
            try:
                schedule = services.course_propose(
                    client=course.client,
                    massage_type=course.massage_type,
                    start_date=start,
                    planned_sessions=form.cleaned_data["count"],
                    cadence=course.cadence,
                    weekdays=course.weekdays,
                    masseur=masseur,
                    preferred_time=timezone.localtime(last.starts_at).time() if last else course.preferred_time,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                booking_support.warn_gap_after(schedule, last_day=last_day)
                formset = SessionFormSet(prefix="s", initial=_row_initial(schedule), form_kwargs=row_kwargs)
        if formset is not None:
            context["formset"] = formset
            if schedule is not None:
                context.update(
                    _schedule_context(
                        client=course.client, massage_type=course.massage_type, schedule=schedule, formset=formset
                    )
                )
            else:
                context["rows"] = [(f, None, None) for f in formset.forms]
    return render(request, "sessions/course_extend.html", context)


def _uuid_or_new(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


# --- single appointments --------------------------------------------------------------------


def appointment_book(request):
    """Book one session; a calendar slot's link pre-fills masseur, room, start, type and client."""
    _require(request, ADD_APPOINTMENT)
    massage_types, masseurs, rooms = _lists()
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
        may_override=_may_override(request),
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
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Booked: %(client)s, %(when)s with %(masseur)s.")
                % {
                    "client": appointment.client.full_name,
                    "when": timezone.localtime(appointment.starts_at).strftime("%d.%m.%Y %H:%M"),
                    "masseur": appointment.masseur.display_name,
                },
            )
            return redirect("sessions:appointment-detail", pk=appointment.pk)
    return render(
        request,
        "sessions/appointment_book.html",
        {"form": form, "query": query, "verdict": _form_verdict(form), "params": request.GET},
    )


def _form_verdict(form):
    """The verdict for the client, type and day on the form so far, or None."""
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
        return None
    return booking_support.verdict_on(client=client, massage_type=massage_type, day=selectors.local_date(starts_at))


def _appointment_or_404(pk: int) -> Appointment:
    appointment = (
        Appointment.objects.select_related("client", "masseur", "room", "massage_type", "course").filter(pk=pk).first()
    )
    if appointment is None:
        raise Http404
    return appointment


def appointment_detail(request, pk):
    _require(request, VIEW_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    can_change = request.user.has_perm(CHANGE_APPOINTMENT)
    return render(
        request,
        "sessions/appointment_detail.html",
        {
            "appointment": appointment,
            "verdict": booking_support.verdict_on(
                client=appointment.client,
                massage_type=appointment.massage_type,
                day=selectors.local_date(appointment.starts_at),
            ),
            "progress": selectors.course_progress(course=appointment.course) if appointment.course_id else None,
            "is_upcoming": appointment.status in Appointment.UPCOMING,
            "has_started": appointment.starts_at <= timezone.now(),
            "can_change": can_change,
            "cancel_form": ReasonForm(),
        },
    )


def appointment_move(request, pk):
    """New start, masseur or room; "Check" shows conflicts and the course's gap warnings first."""
    _require(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    if appointment.status not in Appointment.UPCOMING:
        messages.error(request, _("Only an upcoming appointment can be moved."))
        return redirect("sessions:appointment-detail", pk=pk)
    _types, masseurs, rooms = _lists()
    form = AppointmentMoveForm(
        request.POST if request.method == "POST" else None,
        appointment=appointment,
        masseurs=masseurs,
        rooms=rooms,
        may_override=_may_override(request),
    )
    warnings, checked = [], False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "move":
            try:
                result = services.appointment_move(
                    appointment=appointment,
                    starts_at=data["starts_at"],
                    masseur=data["masseur"],
                    room=data["room"],
                    moved_by=request.user,
                    override_reason=data.get("override_reason", ""),
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Moved to %(when)s.")
                    % {"when": timezone.localtime(result.appointment.starts_at).strftime("%d.%m.%Y %H:%M")},
                )
                for warning in result.warnings:
                    messages.warning(request, warning)
                return redirect("sessions:appointment-detail", pk=pk)
        else:
            errors = selectors.appointment_conflicts(
                client=appointment.client,
                massage_type=appointment.massage_type,
                masseur=data["masseur"],
                room=data["room"],
                starts_at=data["starts_at"],
                exclude_pk=appointment.pk,
            )
            for field, field_errors in errors.items():
                form.add_error(field if field in form.fields else None, field_errors)
            checked = not errors
    # What the form holds now (checked, or a move refused): its gap warnings before confirming.
    starts_at = (getattr(form, "cleaned_data", None) or {}).get("starts_at")
    if starts_at and appointment.course_id:
        warnings = selectors.course_gap_warnings(
            course=appointment.course, starts_at=starts_at, exclude_pk=appointment.pk
        )
    verdict = booking_support.verdict_on(
        client=appointment.client,
        massage_type=appointment.massage_type,
        day=selectors.local_date(starts_at or appointment.starts_at),
    )
    return render(
        request,
        "sessions/appointment_move.html",
        {"form": form, "appointment": appointment, "warnings": warnings, "checked": checked, "verdict": verdict},
    )


def appointment_cancel(request, pk):
    """A reason is required; only a POST cancels."""
    _require(request, CHANGE_APPOINTMENT)
    appointment = _appointment_or_404(pk)
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(appointment=appointment, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The appointment is cancelled."))
            return redirect("sessions:appointment-detail", pk=pk)
    return render(request, "sessions/appointment_cancel.html", {"form": form, "appointment": appointment})


@require_POST
def appointment_no_show(request, pk):
    _require(request, CHANGE_APPOINTMENT)
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
    path("courses/new/", course_create, name="course-create"),
    path("courses/<int:pk>/", course_detail, name="course-detail"),
    path("courses/<int:pk>/cancel-rest/", course_cancel_rest, name="course-cancel-rest"),
    path("courses/<int:pk>/extend/", course_extend, name="course-extend"),
    path("courses/<int:pk>/shorten/", course_shorten, name="course-shorten"),
    path("appointments/new/", appointment_book, name="appointment-book"),
    path("appointments/<int:pk>/", appointment_detail, name="appointment-detail"),
    path("appointments/<int:pk>/move/", appointment_move, name="appointment-move"),
    path("appointments/<int:pk>/cancel/", appointment_cancel, name="appointment-cancel"),
    path("appointments/<int:pk>/no-show/", appointment_no_show, name="appointment-no-show"),
]
