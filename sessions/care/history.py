"""The client's history: one chronological list of screenings, courses, sessions with their logs
and addenda, flags and clearances. A fixed number of queries however long the history.

Sessions are paged from the newest, PAGE_SESSIONS at a time (keyset: "before appointment X"); the
screenings, clearances and courses of a page are those dated within its sessions' span, so the
pages joined give the whole history once. The pain chart always covers the whole history."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Min, Prefetch, Q
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from clients.models import Client
from screening import diff as screening_diff
from screening.models import Clearance, Finding, Screening
from sessions.care import review
from sessions.models import Appointment, Course, Flag, SessionLog, SessionLogAddendum

# Sessions in full per page: what a masseur reads before a session; 200 of them took 130 ms to render.
PAGE_SESSIONS = 20


@dataclass
class Entry:
    at: datetime.datetime
    kind: str  # "screening", "clearance", "course", "session"
    obj: object
    extra: dict = field(default_factory=dict)


@dataclass
class History:
    client: Client
    entries: list[Entry]
    courses: list[Course]
    course: Course | None
    # Pain before and after per signed session: the course's, by session number, or all, by date.
    chart: review.PainChart | None = None
    # The appointment the next (older) page starts before; None when this page reaches the first session.
    earlier: int | None = None
    # The appointment this page starts before; None for the newest page.
    before: int | None = None


@dataclass(frozen=True)
class _Span:
    """The instants a page covers: [since, until); None is open-ended."""

    since: datetime.datetime | None
    until: datetime.datetime | None

    def holds(self, at: datetime.datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


def _start_of(day: datetime.date) -> datetime.datetime:
    from sessions.localtime import kyiv

    return datetime.datetime.combine(day, datetime.time.min, tzinfo=kyiv())


def client_history(
    *, client: Client, course_id: int | None = None, before: int | None = None, limit: int | None = PAGE_SESSIONS
) -> History:
    """The client's record, oldest first: the `limit` sessions before appointment `before` (the newest
    without it; every session with limit None) and what else is dated among them. With a course, only
    that course and its sessions (screenings and clearances stay: they are the client's, not the
    course's). Ten queries (eleven with `before`)."""
    courses = list(
        Course.objects.filter(client=client)
        .select_related("massage_type")
        .annotate(
            completed=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED)),
            # The course filter names a course by its massage type and first session.
            first_session=Min("appointments__starts_at"),
        )
        .order_by("created_at", "pk")
    )
    course = next((c for c in courses if c.pk == course_id), None)
    in_scope = Appointment.objects.filter(client=client)
    if course is not None:
        in_scope = in_scope.filter(course=course)

    until = None
    if before is not None:
        until = Appointment.objects.filter(client=client, pk=before).values_list("starts_at", flat=True).first()
        if until is None:  # not this client's appointment: start from the newest
            before = None
    appointments, earlier = _page(in_scope, before=before, until=until, limit=limit)
    span = _Span(since=appointments[0].starts_at if earlier is not None else None, until=until)

    entries: list[Entry] = []
    previous = None
    for screening in _screenings(client):
        if span.holds(screening.taken_at):
            extra = {"diff": screening_diff.compare(previous, screening), "first": previous is None}
            entries.append(Entry(screening.taken_at, "screening", screening, extra))
        previous = screening
    clearances = (
        Clearance.objects.filter(client=client)
        .select_related("covers_contraindication", "covers_massage_type", "created_by")
        .order_by("issued_on", "pk")
    )
    entries.extend(Entry(at, "clearance", c) for c in clearances if span.holds(at := _start_of(c.issued_on)))
    entries.extend(
        Entry(c.created_at, "course", c)
        for c in courses
        if (course is None or c.pk == course.pk) and span.holds(c.created_at)
    )
    for appointment in appointments:
        log = appointment.session_log if _has(appointment, "session_log") else None
        entries.append(
            Entry(
                appointment.starts_at,
                "session",
                appointment,
                {
                    "log": log,
                    "check": appointment.day_of_check if _has(appointment, "day_of_check") else None,
                    "flags": list(appointment.flags.all()),
                },
            )
        )
    entries.sort(key=lambda e: e.at)
    return History(
        client=client,
        entries=entries,
        courses=courses,
        course=course,
        chart=_pain_chart(in_scope, course),
        earlier=earlier,
        before=before,
    )


def _page(
    in_scope, *, before: int | None, until: datetime.datetime | None, limit: int | None
) -> tuple[list[Appointment], int | None]:
    """The page's appointments oldest first, and the id the next older page starts before (None: no
    older session). Five queries: the page by (client, starts_at), then its logs, their addenda, its
    day-of checks and flags by appointment id (joined, PostgreSQL hashed every check in the parlor)."""
    rows = in_scope
    if before is not None:
        rows = rows.filter(Q(starts_at__lt=until) | Q(starts_at=until, pk__lt=before))
    rows = (
        rows.select_related("massage_type", "masseur", "room")
        .prefetch_related(
            Prefetch("session_log", queryset=SessionLog.objects.select_related("signed_by")),
            Prefetch(
                "session_log__addenda",
                queryset=SessionLogAddendum.objects.select_related("author").order_by("created_at", "pk"),
            ),
            "day_of_check",
            Prefetch("flags", queryset=Flag.objects.select_related("acknowledged_by").order_by("raised_at", "pk")),
        )
        .order_by("-starts_at", "-pk")
    )
    if limit is None:
        return list(reversed(rows)), None
    # One more than the page tells whether an older page exists, without a count.
    page = list(rows[: limit + 1])
    earlier = None
    if len(page) > limit:
        page = page[:limit]
        earlier = page[-1].pk
    return page[::-1], earlier


def _screenings(client: Client) -> list[Screening]:
    # Every one, whatever the page: a screening's diff is against the one before it. The answers
    # (the questionnaire, ~3 KB of JSON each) are not shown here.
    return list(
        Screening.objects.filter(client=client)
        .defer("answers")
        .select_related("taken_by")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.select_related("contraindication")))
        .order_by("taken_at", "pk")
    )


def _pain_chart(in_scope, course: Course | None) -> review.PainChart | None:
    """Over the whole history (or course), whatever the page: one query of pains, no log loaded."""
    if course is None:
        rows = (
            in_scope.filter(session_log__status=SessionLog.Status.SIGNED)
            .order_by("starts_at", "pk")
            .values_list("starts_at", "session_log__pain_before", "session_log__pain_after")
        )
        return review.pain_chart(review.date_samples(list(rows)), by_session_number=False)
    rows = list(
        in_scope.order_by("starts_at", "pk").values_list(
            "pk", "starts_at", "status", "session_log__status", "session_log__pain_before", "session_log__pain_after"
        )
    )
    live = [row for row in rows if row[2] not in Appointment.NOT_LIVE]
    numbers = {row[0]: number for number, row in enumerate(live, start=1)}
    signed = [(pk, at, pain, after) for pk, at, _status, log, pain, after in rows if log == SessionLog.Status.SIGNED]
    return review.pain_chart(review.course_samples(signed, numbers))


def chart_points_svg(chart: review.PainChart | None) -> str:
    """The chart's points and x labels as SVG, as sessions/_masseur_pain_chart.html's loop draws them. The
    coordinates are review's dot-decimal strings and the pains integers; the texts are escaped."""
    if chart is None:
        return ""
    before, after, bottom = escape(_("pain before")), escape(_("pain after")), chart.plot_bottom
    parts = []
    for p in chart.points:
        title = escape(p.title)
        parts.append(
            f'<circle class="pain-chart-before-point" cx="{p.x}" cy="{p.y_before}" r="3.5" data-testid="pain-point"'
            f' data-kind="before" data-value="{p.before:d}"><title>{title}: {before} {p.before:d}</title></circle>'
            f'<circle class="pain-chart-after-point" cx="{p.x}" cy="{p.y_after}" r="3.5" data-testid="pain-point"'
            f' data-kind="after" data-value="{p.after:d}"><title>{title}: {after} {p.after:d}</title></circle>'
        )
        if p.show_label:
            parts.append(
                f'<text class="pain-chart-tick" x="{p.x}" y="{bottom}" dy="14" text-anchor="middle"'
                f' data-testid="pain-chart-x-label">{escape(p.label)}</text>'
            )
    return mark_safe("\n".join(parts))  # noqa: S308 - every text above is escaped


def _has(appointment: Appointment, name: str) -> bool:
    # A reverse one-to-one loaded by select_related is None-safe only this way.
    try:
        getattr(appointment, name)
    except ObjectDoesNotExist:
        return False
    return True
