"""The manager's outcome view: how much pain fell over completed courses, per massage type and indication.

A course's pain drop is its first signed session's pain before minus its last signed session's pain
after (positive: it fell). One query however many courses: the first and last pain come as
subqueries per course, the averaging is done here.
"""

import math
from dataclasses import dataclass

from django.db.models import IntegerField, OuterRef, Subquery
from django.utils.translation import get_language

from sessions.models import Course, SessionLog

# The drawing's units (viewBox): a label column, then the bars.
CHART_W = 640
LABEL_W = 260
VALUE_W = 90
ROW_H = 30
TOP = 10
AXIS_H = 26


@dataclass(frozen=True)
class Outcome:
    massage_type: str
    indication: str
    courses: int
    average_drop: float  # points on the 0-10 scale; negative when pain rose

    @property
    def label(self) -> str:
        return f"{self.massage_type} · {self.indication}"


@dataclass(frozen=True)
class Bar:
    outcome: Outcome
    y: str
    text_y: str
    x: str
    width: str
    value_x: str
    rose: bool


@dataclass(frozen=True)
class OutcomeChart:
    width: int
    height: int
    bars: list[Bar]
    zero_x: str
    axis_y: str
    ticks: list[tuple[str, str]]  # (x, label)
    bar_h: str
    label_x: str


def _signed_pain(field: str, *, latest: bool):
    order = ("-appointment__starts_at", "-appointment__pk") if latest else ("appointment__starts_at", "appointment__pk")
    return Subquery(
        SessionLog.objects.filter(appointment__course=OuterRef("pk"), status=SessionLog.Status.SIGNED)
        .order_by(*order)
        .values(field)[:1],
        output_field=IntegerField(),
    )


def course_outcomes() -> list[Outcome]:
    """Average pain drop per massage type and indication over completed courses with signed logs,
    biggest drop first. One query."""
    rows = (
        Course.objects.filter(status=Course.Status.COMPLETED)
        .annotate(
            first_before=_signed_pain("pain_before", latest=False), last_after=_signed_pain("pain_after", latest=True)
        )
        .filter(first_before__isnull=False, last_after__isnull=False)
        .values_list("massage_type__name_uk", "massage_type__name_en", "indication", "first_before", "last_after")
    )
    groups: dict[tuple, list[int]] = {}
    for name_uk, name_en, indication, first_before, last_after in rows:
        groups.setdefault((name_uk, name_en, indication), []).append(first_before - last_after)
    indications = dict(Course.Indication.choices)
    english = (get_language() or "").startswith("en")
    outcomes = [
        Outcome(
            massage_type=name_en if english else name_uk,
            indication=str(indications.get(indication, indication)),
            courses=len(drops),
            average_drop=round(sum(drops) / len(drops), 1),
        )
        for (name_uk, name_en, indication), drops in groups.items()
    ]
    return sorted(outcomes, key=lambda o: (-o.average_drop, o.label))


def _num(value: float) -> str:
    # Machine-read coordinates: a dot whatever the page's language.
    return f"{value:.1f}"


def outcome_chart(outcomes: list[Outcome]) -> OutcomeChart | None:
    """Horizontal bars from zero: to the right when pain fell, to the left when it rose."""
    if not outcomes:
        return None
    low = math.floor(min(0.0, min(o.average_drop for o in outcomes)))
    high = math.ceil(max(1.0, max(o.average_drop for o in outcomes)))
    plot_left, plot_w = LABEL_W, CHART_W - LABEL_W - VALUE_W

    def x(value: float) -> float:
        return plot_left + plot_w * (value - low) / (high - low)

    bars = []
    for index, outcome in enumerate(outcomes):
        y = TOP + index * ROW_H
        start, end = sorted((x(0), x(outcome.average_drop)))
        bars.append(
            Bar(
                outcome=outcome,
                y=_num(y + 4),
                text_y=_num(y + ROW_H / 2),
                x=_num(start),
                width=_num(max(end - start, 1)),
                value_x=_num(max(x(0), x(outcome.average_drop)) + 6),
                rose=outcome.average_drop < 0,
            )
        )
    axis_y = TOP + len(outcomes) * ROW_H
    ticks = [(_num(x(v)), str(v)) for v in range(math.floor(low), math.ceil(high) + 1)]
    return OutcomeChart(
        width=CHART_W,
        height=int(axis_y + AXIS_H),
        bars=bars,
        zero_x=_num(x(0)),
        axis_y=_num(axis_y),
        ticks=ticks,
        bar_h=_num(ROW_H - 8),
        label_x=_num(LABEL_W - 8),
    )
