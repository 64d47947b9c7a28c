"""The pain chart on the review page: pain before and after, per signed session."""

from dataclasses import dataclass

from sessions.localtime import local_date
from sessions.models import Appointment, SessionLog


@dataclass(frozen=True)
class PainChart:
    """Geometry of an inline SVG: pain before and after, per session, 0 at the bottom."""

    width: int
    height: int
    before: str  # polyline points
    after: str
    points: list[dict]
    grid: list[dict]


CHART_W, CHART_H, PAD = 360, 160, 28


def pain_chart(sessions: list[tuple[str, int, int]]) -> PainChart | None:
    """(label, pain before, pain after) per session in order; None when there is nothing to draw."""
    if not sessions:
        return None
    span_x = CHART_W - 2 * PAD
    span_y = CHART_H - 2 * PAD
    step = span_x / max(len(sessions) - 1, 1)

    def y(pain: int) -> float:
        return round(PAD + span_y * (10 - pain) / 10, 1)

    points = []
    for index, (label, before, after) in enumerate(sessions):
        x = round(PAD + step * index, 1) if len(sessions) > 1 else CHART_W / 2
        points.append(
            {"x": x, "label": label, "before": before, "after": after, "y_before": y(before), "y_after": y(after)}
        )
    return PainChart(
        width=CHART_W,
        height=CHART_H,
        before=" ".join(f"{p['x']},{p['y_before']}" for p in points),
        after=" ".join(f"{p['x']},{p['y_after']}" for p in points),
        points=points,
        grid=[{"y": y(level), "label": level} for level in (0, 5, 10)],
    )


def pain_trend(*, appointment: Appointment) -> PainChart | None:
    """The pain chart of the appointment's course (without a course: the client's last ten signed logs)."""
    logs = SessionLog.objects.filter(status=SessionLog.Status.SIGNED)
    if appointment.course_id:
        logs = logs.filter(appointment__course_id=appointment.course_id)
    else:
        logs = logs.filter(appointment__client_id=appointment.client_id)
    rows = list(
        logs.order_by("-appointment__starts_at").values_list("appointment__starts_at", "pain_before", "pain_after")[:30]
    )
    rows.reverse()
    return pain_chart([(local_date(at).strftime("%d.%m"), before, after) for at, before, after in rows])
