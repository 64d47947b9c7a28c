"""Course pages: a new course with its proposed schedule, and the course page with its actions
(cancel the rest, extend, shorten). The rules live in sessions.booking.services; these pages only show
and submit."""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from clients.selectors import client_search
from parlor.view_helpers import add_errors, require_perm
from screening import rules
from screening.access import open_health_record
from sessions.booking import gate, selectors, services
from sessions.booking import page_selectors as booking_support
from sessions.booking.forms import (
    AppointmentBookForm,
    CourseExtendForm,
    CourseForm,
    CourseShortenForm,
    ReasonForm,
    SessionFormSet,
)
from sessions.booking.page_selectors import SessionRow
from sessions.booking.views.appointments import (
    CANDIDATES,
    CHANGE_APPOINTMENT,
    can_override,
    may_book_closed,
    offered_lists,
)
from sessions.models import MAX_COURSE_SESSIONS, Appointment

ADD_COURSE = "treatments.add_course"
CHANGE_COURSE = "treatments.change_course"
VIEW_COURSE = "treatments.view_course"


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


def _schedule_context(*, client, massage_type, schedule, formset, course_facts=None) -> dict:
    """The schedule table (each row's form, conflicts, warnings and that day's verdict, judged as sessions of
    the course) and the verdict on top: the first session's, with a flag when any day is blocked (the
    manager's override field) or needs a clearance (booking awaiting it)."""
    verdicts = booking_support.verdicts_by_day(
        client=client,
        massage_type=massage_type,
        days={selectors.local_date(s.starts_at) for s in schedule},
        course=course_facts,
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
        # Either can be awaited: the sessions are pencilled in until it is recorded.
        "any_needs_clearance": any(v.missing_clearances or v.needs_screening for v in verdicts.values()),
        "all_bookable": all(v.is_bookable for v in verdicts.values()),
    }


def _new_course_facts(data, schedule):
    """The facts a new course is judged by: its first session and its planned length."""
    if not schedule:
        return None
    return rules.CourseFacts(
        starts_on=min(selectors.local_date(s.starts_at) for s in schedule),
        length_days=gate.course_length_days(
            planned_sessions=data["planned_sessions"], cadence=data["cadence"], weekdays=data["weekdays"]
        ),
    )


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
    require_perm(request, ADD_COURSE)
    massage_types, masseurs, rooms = offered_lists()
    query = request.GET.get("q", "").strip()
    # "Repeat this course" from the client's page: the same course again, proposed at once.
    repeat = None if request.method == "POST" else booking_support.repeat_of(request.GET.get("repeat", ""))
    submitted = request.POST if request.method == "POST" else repeat
    bound = submitted is not None
    initial, param_errors = {}, {}
    if not bound:
        initial, param_errors = AppointmentBookForm.initial_from_params(
            {key: request.GET.get(key, "") for key in ("client", "massage_type")},
            massage_types=massage_types,
            masseurs=masseurs,
            rooms=rooms,
        )
    form = CourseForm(
        submitted,
        initial=initial,
        candidates=client_search(query, limit=CANDIDATES) if query or not (initial.get("client") or bound) else [],
        massage_types=massage_types,
        masseurs=masseurs,
        may_override=can_override(request),
    )
    form.show_param_errors(param_errors)
    action = submitted.get("action", "propose") if bound else "propose"
    context = {"form": form, "query": query, "failures": []}
    if bound and form.is_valid():
        data = form.cleaned_data
        client, massage_type = data["client"], data["massage_type"]
        row_kwargs = {"masseurs": masseurs, "rooms": rooms, "massage_type": massage_type}
        formset, schedule = None, None
        if action in ("check", "book") and "s-TOTAL_FORMS" in submitted:
            formset = SessionFormSet(submitted, prefix="s", form_kwargs=row_kwargs)
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
                            await_clearance=data.get("await_clearance", False),
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
                schedule = booking_support.check_sessions(
                    client=client, massage_type=massage_type, rows=rows, may_book_closed=may_book_closed(request)
                )
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
                add_errors(form, exc)
            else:
                formset = SessionFormSet(prefix="s", initial=_row_initial(schedule), form_kwargs=row_kwargs)
        if formset is not None:
            context["formset"] = formset
            if schedule is not None:
                context.update(
                    _schedule_context(
                        client=client,
                        massage_type=massage_type,
                        schedule=schedule,
                        formset=formset,
                        course_facts=_new_course_facts(data, schedule),
                    )
                )
            else:
                context["rows"] = [(f, None, None) for f in formset.forms]
    if context.get("verdict") is not None:
        context["shows_health"] = open_health_record(request, client)
    return render(request, "sessions/course_create.html", context)


def _course_page_or_404(pk: int) -> booking_support.CoursePage:
    page = booking_support.course_page(pk=pk)
    if page is None:
        raise Http404
    return page


def _room_left(page: booking_support.CoursePage) -> int:
    """How many sessions an extension may add: course_extend raises the plan, at most to the maximum."""
    return MAX_COURSE_SESSIONS - max(page.course.planned_sessions, page.booked)


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
            "shows_health": open_health_record(request, page.course.client, obj=page.course),
            "upcoming_count": len(upcoming),
            "can_change": can_change and page.course.status != page.course.Status.CANCELLED,
            "can_change_appointment": request.user.has_perm(CHANGE_APPOINTMENT),
            "can_extend": can_change and _room_left(page) > 0,
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
    require_perm(request, VIEW_COURSE)
    return _render_course(request, _course_page_or_404(pk))


@require_POST
def course_cancel_rest(request, pk):
    require_perm(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    form = ReasonForm(request.POST, prefix="rest")
    if form.is_valid():
        try:
            count = services.course_cancel_rest(course=page.course, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
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
    """Cancel the last N upcoming sessions of the course (all or none) and plan as many fewer."""
    require_perm(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    form = CourseShortenForm(request.POST, prefix="shorten", upcoming=len(page.upcoming))
    if form.is_valid():
        try:
            count = services.course_shorten(
                course=page.course,
                count=form.cleaned_data["count"],
                reason=form.cleaned_data["reason"],
                by=request.user,
                expect_last_pk=form.cleaned_data["expect_last"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "The course is shorter by %(count)s session.",
                    "The course is shorter by %(count)s sessions.",
                    count,
                )
                % {"count": count},
            )
            return redirect("sessions:course-detail", pk=pk)
    return _render_course(request, page, shorten_form=form, status=400)


def course_extend(request, pk):
    """Propose N more sessions after the last one, change them if needed, book all or none."""
    require_perm(request, CHANGE_COURSE)
    page = _course_page_or_404(pk)
    course = page.course
    if course.status == course.Status.CANCELLED:
        messages.error(request, _("The course is cancelled."))
        return redirect("sessions:course-detail", pk=pk)
    _types, masseurs, rooms = offered_lists()
    row_kwargs = {"masseurs": masseurs, "rooms": rooms, "massage_type": course.massage_type}
    bound = request.method == "POST"
    form = CourseExtendForm(request.POST if bound else None, room_left=_room_left(page))
    may_override = can_override(request)
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
                    try:
                        booked, context["failures"] = _book_sessions(
                            formset,
                            rows,
                            lambda sessions: services.course_extend(
                                course=course,
                                sessions=sessions,
                                booked_by=request.user,
                                override_reason=override_reason,
                                request_key=request_key,
                            ),
                        )
                    except ValidationError as exc:
                        # Not about one session: the course is cancelled or full meanwhile.
                        booked = None
                        add_errors(form, exc)
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
                    may_book_closed=may_book_closed(request),
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
                add_errors(form, exc)
            else:
                booking_support.warn_gap_after(schedule, last_day=last_day)
                formset = SessionFormSet(prefix="s", initial=_row_initial(schedule), form_kwargs=row_kwargs)
        if formset is not None:
            context["formset"] = formset
            if schedule is not None:
                first = min([s.starts_at for s in schedule] + ([last.starts_at] if last else []), default=None)
                context.update(
                    _schedule_context(
                        client=course.client,
                        massage_type=course.massage_type,
                        schedule=schedule,
                        formset=formset,
                        course_facts=gate.facts_of_course(course, also=first) if first else None,
                    )
                )
            else:
                context["rows"] = [(f, None, None) for f in formset.forms]
    if context.get("verdict") is not None:
        context["shows_health"] = open_health_record(request, course.client, obj=course)
    return render(request, "sessions/course_extend.html", context)


def _uuid_or_new(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


urlpatterns = [
    path("courses/new/", course_create, name="course-create"),
    path("courses/<int:pk>/", course_detail, name="course-detail"),
    path("courses/<int:pk>/cancel-rest/", course_cancel_rest, name="course-cancel-rest"),
    path("courses/<int:pk>/extend/", course_extend, name="course-extend"),
    path("courses/<int:pk>/shorten/", course_shorten, name="course-shorten"),
]
