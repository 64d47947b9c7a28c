"""The pain chart: pain before and after, per signed session, drawn as an inline SVG on the server.

Every number that goes into the SVG is formatted here with a dot, never through localisation: a
Ukrainian page would otherwise write "132,0" into a coordinate and the browser would draw nothing.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parlor.formats import day_long
from sessions.localtime import local_date
from sessions.models import Appointment, Course, SessionLog

# The drawing's own units (the viewBox); CSS scales it to the card's width.
CHART_W, CHART_H = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 44, 14, 12, 44
PAIN_TICKS = (0, 2, 4, 6, 8, 10)
# Past this many sessions only every other x label is written, so they never overlap.
MAX_X_LABELS = 12
RECENT_SESSIONS = 30


@dataclass(frozen=True)
class PainSample:
    """One signed session: its x-axis label (course session number or short date) and a longer title."""

    label: str
    title: str
    before: int
    after: int


@dataclass(frozen=True)
class ChartPoint:
    label: str
    title: str
    before: int
    after: int
    x: str
    y_before: str
    y_after: str
    show_label: bool


@dataclass(frozen=True)
class Tick:
    at: str  # y of a grid line, or x of a label
    label: str


@dataclass(frozen=True)
class PainChart:
    """Geometry of the inline SVG (every coordinate a dot-decimal string) and its text summary."""

    width: int
    height: int
    before: str  # polyline points
    after: str
    points: list[ChartPoint]
    grid: list[Tick]
    plot_left: str
    plot_right: str
    plot_top: str
    plot_bottom: str
    x_title: str
    y_title: str
    x_title_x: str
    x_title_y: str
    y_title_x: str
    y_title_y: str
    summary: str


def _num(value: float) -> str:
    # Machine-read: a dot and one decimal whatever the language.
    return f"{value:.1f}"


def pain_summary(samples: list[PainSample]) -> str:
    """ "Pain fell from 7 to 3 over 8 sessions": the first session's pain before, the last one's after."""
    first, last, count = samples[0].before, samples[-1].after, len(samples)
    params = {"first": first, "last": last, "count": count}
    if last < first:
        return (
            ngettext(
                "Pain fell from %(first)s to %(last)s over %(count)s session.",
                "Pain fell from %(first)s to %(last)s over %(count)s sessions.",
                count,
            )
            % params
        )
    if last > first:
        return (
            ngettext(
                "Pain rose from %(first)s to %(last)s over %(count)s session.",
                "Pain rose from %(first)s to %(last)s over %(count)s sessions.",
                count,
            )
            % params
        )
    return (
        ngettext(
            "Pain stayed at %(first)s over %(count)s session.",
            "Pain stayed at %(first)s over %(count)s sessions.",
            count,
        )
        % params
    )


def pain_chart(samples: list[PainSample], *, by_session_number: bool = True) -> PainChart | None:
    """The chart of the samples in order; None when there is nothing to draw. The x axis counts the
    course's sessions (`by_session_number`) or shows dates."""
    if not samples:
        return None
    plot_w = CHART_W - LEFT - RIGHT
    plot_h = CHART_H - TOP - BOTTOM
    bottom = TOP + plot_h

    def y(pain: int) -> float:
        return TOP + plot_h * (10 - pain) / 10

    step = plot_w / (len(samples) - 1) if len(samples) > 1 else 0
    every = 1 if len(samples) <= MAX_X_LABELS else 2
    points = []
    for index, sample in enumerate(samples):
        x = LEFT + step * index if len(samples) > 1 else LEFT + plot_w / 2
        points.append(
            ChartPoint(
                label=sample.label,
                title=sample.title,
                before=sample.before,
                after=sample.after,
                x=_num(x),
                y_before=_num(y(sample.before)),
                y_after=_num(y(sample.after)),
                # The last one always: it is the latest session.
                show_label=index % every == 0 or index == len(samples) - 1,
            )
        )
    return PainChart(
        width=CHART_W,
        height=CHART_H,
        before=" ".join(f"{p.x},{p.y_before}" for p in points),
        after=" ".join(f"{p.x},{p.y_after}" for p in points),
        points=points,
        grid=[Tick(at=_num(y(level)), label=str(level)) for level in PAIN_TICKS],
        plot_left=_num(LEFT),
        plot_right=_num(LEFT + plot_w),
        plot_top=_num(TOP),
        plot_bottom=_num(bottom),
        x_title=_("Session") if by_session_number else _("Date"),
        y_title=_("Pain, 0–10"),
        x_title_x=_num(LEFT + plot_w / 2),
        x_title_y=_num(CHART_H - 6),
        y_title_x=_num(12),
        y_title_y=_num(TOP + plot_h / 2),
        summary=pain_summary(samples),
    )


def _session_title(number: int | None, day) -> str:
    if number is None:
        return day_long(day)
    return _("Session %(number)s, %(day)s") % {"number": number, "day": day_long(day)}


def course_samples(rows: list[tuple[int, object, int, int]], numbers: dict[int, int]) -> list[PainSample]:
    """(appointment id, starts_at, pain before, pain after) in order -> samples labelled by course session number."""
    samples = []
    for pk, starts_at, before, after in rows:
        number = numbers.get(pk)
        day = local_date(starts_at)
        label = str(number) if number is not None else day.strftime("%d.%m")
        samples.append(PainSample(label, _session_title(number, day), before, after))
    return samples


def date_samples(rows: list[tuple[object, int, int]]) -> list[PainSample]:
    """(starts_at, pain before, pain after) in order -> samples labelled by a short date (15.03)."""
    samples = []
    for starts_at, before, after in rows:
        day = local_date(starts_at)
        samples.append(PainSample(day.strftime("%d.%m"), day_long(day), before, after))
    return samples


def session_numbers(*, course_id: int) -> dict[int, int]:
    """Each live session of the course and its number in the course (1, 2, ...). One query."""
    pks = (
        Appointment.objects.filter(course_id=course_id)
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )
    return {pk: number for number, pk in enumerate(pks, start=1)}


def course_pain_chart(*, course: Course | int) -> PainChart | None:
    """The pain chart of one course, by session number. Two queries."""
    course_id = getattr(course, "pk", course)
    rows = list(
        SessionLog.objects.filter(status=SessionLog.Status.SIGNED, appointment__course_id=course_id)
        .order_by("appointment__starts_at", "appointment__pk")
        .values_list("appointment_id", "appointment__starts_at", "pain_before", "pain_after")
    )
    if not rows:
        return None
    return pain_chart(course_samples(rows, session_numbers(course_id=course_id)))


def pain_trend(*, appointment: Appointment) -> PainChart | None:
    """The pain chart of the appointment's course (without a course: the client's last signed logs, by date)."""
    if appointment.course_id:
        return course_pain_chart(course=appointment.course_id)
    rows = list(
        SessionLog.objects.filter(status=SessionLog.Status.SIGNED, appointment__client_id=appointment.client_id)
        .order_by("-appointment__starts_at")
        .values_list("appointment__starts_at", "pain_before", "pain_after")[:RECENT_SESSIONS]
    )
    rows.reverse()
    return pain_chart(date_samples(rows), by_session_number=False)
