"""Reads for the calendar (day and week grids) and the reception dashboard.

Every page loads with a fixed number of queries, whatever the number of
masseurs or appointments shown: the appointments come in one query with
their course number as a correlated subquery, open flags in one query, and
the screening verdicts of every day shown in one `verdicts_for_days` call
(three queries).

A full day is a few hundred entries, so each is loaded with only the columns
it shows and its display strings are made once here (times, links, labels),
leaving the template a flat loop.

The grid is an HTML table: one row per GRID_STEP of local wall-clock time,
one column per masseur, room or day. An appointment takes the rows from its
start to the end of the client's rest (blocks_until), since the masseur and
the room are busy until then. Live appointments never overlap within a
column (the exclusion constraints), so only the rounding to the grid can make
two touch; the later one then moves down a row, its own times still shown.
"""

import datetime
import functools
import html
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import CharField, Count, ExpressionWrapper, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from phonenumber_field.phonenumber import to_python as phone_number

from parlor import closures
from parlor.models import ClosedDay, Masseur, Room, TimeOff, WorkingHours
from screening import selectors as screening_selectors
from screening.access import health_record_clients
from sessions.booking.availability import Interval, local_day_bounds, merge, overlaps_any, working_intervals
from sessions.booking.holds import open_holds
from sessions.localtime import kyiv
from sessions.models import Appointment, Course, Flag

GRID_STEP = datetime.timedelta(minutes=15)
# The dashboard lists the sessions awaiting a clearance that start this soon (the flag scan's 48 hours).
AWAITING_SOON = datetime.timedelta(hours=48)
# A room or masseur suggested from an empty cell is free at least this long:
# a usual session with its rest.
SUGGESTION_WINDOW = datetime.timedelta(minutes=60)
# The grid when nobody works and nothing is booked.
DEFAULT_HOURS = (datetime.time(9, 0), datetime.time(18, 0))
# Dates the calendar accepts in a URL; beyond them timezone arithmetic overflows.
MIN_DATE = datetime.date(2000, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)

STATUS_BADGES = {
    Appointment.Status.BOOKED: "bg-secondary",
    Appointment.Status.CONFIRMED: "bg-primary",
    Appointment.Status.CHECKED_IN: "bg-info text-dark",
    Appointment.Status.COMPLETED: "bg-success",
    Appointment.Status.CANCELLED: "bg-light text-dark border",
    Appointment.Status.NO_SHOW: "bg-dark",
    Appointment.Status.ON_HOLD: "bg-warning text-dark",
    Appointment.Status.AWAITING_CLEARANCE: "bg-light text-dark border border-primary",
}


# --- links that may not exist yet -----------------------------------------------------------------


def url_maker(name: str) -> Callable[..., str | None]:
    """A function giving the URL of a named page with arguments, or None while that page does not exist.

    The booking pages are built separately; the calendar keeps working, without
    those links, until they are there.
    """

    def make(*args) -> str | None:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            return None

    return make


def booking_url(base: str | None, **params) -> str | None:
    if base is None:
        return None
    return f"{base}?{urlencode({k: v for k, v in params.items() if v is not None})}"


# Stands for the object's id in a URL reversed once per page (no named URL has this number in its fixed part).
_PK_PLACEHOLDER = "2147483646"


def pk_url_maker(name: str) -> Callable[[int], str] | None:
    """A function giving the URL of a named page that takes one object id, or None while that page does not
    exist. It reverses once: a full day has a few hundred entries with three links each."""
    template = url_maker(name)(int(_PK_PLACEHOLDER))
    if template is None:
        return None
    head, _sep, tail = template.partition(_PK_PLACEHOLDER)
    return lambda pk: f"{head}{pk}{tail}"


@functools.lru_cache(maxsize=4096)
def international_phone(stored: str) -> str:
    """A stored phone number as the day sheet prints it (PhoneNumber.as_international; "" for none). Parsing
    is ~0.1 ms a number, a few hundred on a day sheet, the same clients every reload: remembered per process."""
    number = phone_number(stored)
    return number.as_international if number else ""


# --- appointments with what a calendar entry shows ------------------------------------------------


@dataclass
class Entry:
    """One appointment as the calendar and the dashboard show it, with its display strings made once."""

    appointment: Appointment
    number: int | None = None  # its place among the course's live sessions
    open_flags: int = 0
    verdict: object | None = None  # screening.rules.Verdict of the client on the appointment's day
    url: str | None = None
    hold: object | None = None  # the open sessions.models.Hold of an appointment on hold
    # May the viewer see the client's health record (the findings behind a hold)? screening.access decides.
    health_visible: bool = False
    planned: int | None = None  # the course's planned sessions
    pk: int | None = None  # the appointment's, as the grid's data attributes give it
    status: str = ""
    sheet_status: str = ""  # the status on the printed day sheet: only when not plainly booked or confirmed
    progress: str = ""  # "4/10": its place in the course, for a live session of one
    status_badge: str = "bg-secondary"
    status_label: str = ""
    times: str = ""  # local "09:00–10:00"
    rest_until: str = ""  # "rest until 10:15", translated
    client_name: str = ""
    client_url: str = ""
    client_phone: str = ""  # international format, for the printed day sheet
    type_name: str = ""
    masseur_name: str = ""
    room_name: str = ""
    move_url: str | None = None  # set for what may be dragged to another time (the move's own rule)
    flags_title: str = ""
    verdict_marked: bool = False  # worth a look before the session: anything but a plain "allowed"
    cell_class: str = "bg-primary-subtle"

    # What may be dragged to another time on the day view (the move's own rule).
    movable_statuses = Appointment.UPCOMING

    def sheet_cells(self) -> str:
        """The printed day sheet's cells of this entry but the health one (sessions/_day_sheets.html adds that
        on the masseur's own sheet): a whole day's sheets are a few hundred rows, and drawing them with
        template tags was most of the day page's template. Every value escaped."""
        e = _escape
        phone = f'<br><span class="small">{e(self.client_phone)}</span>' if self.client_phone else ""
        status = f'<br><span class="small">{e(self.sheet_status)}</span>' if self.sheet_status else ""
        return mark_safe(  # every value in it escaped
            f'<td class="text-nowrap">{e(self.times)}</td><td>{e(self.client_name)}{phone}</td>'
            f"<td>{e(self.room_name)}</td><td>{e(self.type_name)}</td><td>{e(self.progress or '—')}{status}</td>"
        )


def _course_number() -> Subquery:
    """How many live sessions of the appointment's course start no later than it: its number, e.g. 4 of 10."""
    return Subquery(
        Appointment.objects.filter(course=OuterRef("course"), starts_at__lte=OuterRef("starts_at"))
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )


def open_flags_count() -> Coalesce:
    """The appointment's open (unacknowledged) flags as a subquery on the flags' appointment index: no extra
    query, no join and GROUP BY over the row."""
    count = (
        Flag.objects.filter(appointment=OuterRef("pk"), acknowledged_at__isnull=True)
        .order_by()
        .values("appointment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


# The columns an entry shows, the verdict's client facts, and what the pages around it read (the dashboard,
# the day sheets, the by-room columns): reading anything else from these appointments is a query per row.
ENTRY_FIELDS = (
    "starts_at",
    "ends_at",
    "blocks_until",
    "status",
    "cancellation_reason",
    "course_id",
    "client__full_name",
    "client__birth_date",
    "client__guardian_consent_at",
    "client__allergens",
    "masseur__display_name",
    "masseur__user_id",
    "masseur__is_active",
    "room__name",
    "room__is_active",
    "massage_type__name_uk",
    "massage_type__name_en",
)


# The related rows every appointment of a page shares among a few dozen (masseurs, rooms, massage types):
# each is made once a page from annotated columns instead of once an appointment by select_related.
_SHARED = {
    "masseur": ("display_name", "user_id", "is_active"),
    "room": ("name", "is_active"),
    "massage_type": ("name_uk", "name_en"),
}


def _appointments(condition: Q) -> list[Appointment]:
    """Appointments matching the condition with the fields an entry shows: one query. The course's planned
    sessions come by a subquery on its primary key (a join made the planner hash every course ever); the
    phone as stored, not parsed (international_phone formats it)."""
    appointments = list(
        Appointment.objects.filter(condition)
        .select_related("client")
        .only(*(f for f in ENTRY_FIELDS if f.split("__")[0] not in _SHARED), *(f"{rel}_id" for rel in _SHARED))
        .annotate(
            course_number=_course_number(),
            open_flag_count=open_flags_count(),
            course_planned=Subquery(
                Course.objects.filter(pk=OuterRef("course_id")).order_by().values("planned_sessions")
            ),
            client_phone=ExpressionWrapper(F("client__phone"), output_field=CharField()),
            **{f"_shared_{rel}_{name}": F(f"{rel}__{name}") for rel, names in _SHARED.items() for name in names},
        )
        .order_by("starts_at", "masseur__display_name", "pk")
    )
    _share_related(appointments)
    return appointments


def _share_related(appointments: list[Appointment]) -> None:
    """Give each appointment its masseur, room and massage type as select_related would (those columns only,
    the rest deferred), one instance per row of theirs."""
    for rel, names in _SHARED.items():
        field = Appointment._meta.get_field(rel)
        model = field.related_model
        # from_db takes the loaded values in the model's field order.
        loaded = [f.attname for f in model._meta.concrete_fields if f.primary_key or f.attname in names]
        made: dict[int, object] = {}
        for appointment in appointments:
            pk = getattr(appointment, field.attname)
            instance = made.get(pk)
            if instance is None:
                values = [
                    pk if a == model._meta.pk.attname else getattr(appointment, f"_shared_{rel}_{a}") for a in loaded
                ]
                instance = made[pk] = model.from_db(Appointment.objects.db, loaded, values)
            field.set_cached_value(appointment, instance)


def _entries(
    appointments: list[Appointment],
    *,
    with_verdicts: bool = True,
    detail_url: Callable | None = None,
    viewer=None,
) -> list[Entry]:
    """Entries with verdicts (three queries for all the local days present), the holds
    of those on hold (one query when any is) and, for `viewer`, whose health record they may see (at most
    one query)."""
    held = open_holds([a.pk for a in appointments if a.status == Appointment.Status.ON_HOLD])
    visible = health_record_clients(viewer, {a.client_id for a in appointments if a.pk in held}) if held else set()
    verdicts: dict[tuple[datetime.date, int], object] = {}
    if with_verdicts:
        tz = kyiv()
        clients_by_day: dict[datetime.date, dict[int, object]] = defaultdict(dict)
        for appointment in appointments:
            if appointment.is_live:
                clients_by_day[appointment.starts_at.astimezone(tz).date()][appointment.client_id] = appointment.client
        verdicts = screening_selectors.verdicts_for_days(
            {day: clients.values() for day, clients in clients_by_day.items()}
        )
    texts = _Texts(
        tz=timezone.get_current_timezone(),
        rest_until=gettext("rest until %(time)s"),
        client_url=pk_url_maker("clients:client-detail"),
        move_url=pk_url_maker("sessions:appointment-move"),
        status_labels={value: str(label) for value, label in Appointment.Status.choices},
    )
    entries = []
    for appointment in appointments:
        starts = appointment.starts_at.astimezone(texts.tz)
        entry = Entry(
            appointment=appointment,
            number=getattr(appointment, "course_number", None),
            open_flags=appointment.open_flag_count,
            verdict=verdicts.get((starts.date(), appointment.client_id)),
            url=detail_url(appointment.pk) if detail_url else None,
            hold=held.get(appointment.pk),
            health_visible=appointment.client_id in visible,
            planned=getattr(appointment, "course_planned", None),
        )
        _describe(entry, starts, texts)
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class _Texts:
    """What every entry's strings are made with, looked up once per page."""

    tz: datetime.tzinfo
    rest_until: str
    client_url: Callable[[int], str] | None
    move_url: Callable[[int], str] | None
    # get_status_display() translates every status's label to find one (it hashes the lazy choices).
    status_labels: dict[str, str]


def _describe(entry: Entry, starts: datetime.datetime, texts: _Texts) -> None:
    """The entry's display strings, as the templates made them (|time:"H:i" in the current time zone)."""
    appointment = entry.appointment
    client = appointment.client
    if appointment.course_id and entry.number is not None and entry.planned is not None and appointment.is_live:
        entry.progress = f"{entry.number}/{entry.planned}"
    entry.status_badge = STATUS_BADGES.get(appointment.status, "bg-secondary")
    entry.pk, entry.status = appointment.pk, appointment.status
    entry.status_label = texts.status_labels.get(appointment.status, appointment.status)
    if appointment.status not in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
        entry.sheet_status = entry.status_label
    entry.times = f"{starts:%H:%M}–{appointment.ends_at.astimezone(texts.tz):%H:%M}"
    entry.rest_until = texts.rest_until % {"time": f"{appointment.blocks_until.astimezone(texts.tz):%H:%M}"}
    entry.client_name = client.full_name
    entry.client_url = texts.client_url(client.pk) if texts.client_url else ""
    entry.client_phone = international_phone(getattr(appointment, "client_phone", None) or "")
    entry.type_name = appointment.massage_type.name
    entry.masseur_name = appointment.masseur.display_name
    entry.room_name = appointment.room.name
    if texts.move_url and appointment.status in Entry.movable_statuses:
        entry.move_url = texts.move_url(appointment.pk)
    if entry.open_flags:
        entry.flags_title = ngettext("%(counter)s open flag", "%(counter)s open flags", entry.open_flags) % {
            "counter": entry.open_flags
        }
    entry.verdict_marked = entry.verdict is not None and str(entry.verdict.status) != "allowed"
    if entry.open_flags or entry.verdict_marked:
        entry.cell_class = "bg-warning-subtle"


# --- the grid -------------------------------------------------------------------------------------


@dataclass
class Cell:
    kind: str  # "appointment", "free", "closed", "past"
    starts_at: datetime.datetime
    rowspan: int = 1
    entry: Entry | None = None
    book_url: str | None = None
    column: "Column | None" = None  # where the cell is: a drag drops an appointment on its masseur or room


@dataclass
class Column:
    key: str
    label: str
    day: datetime.date
    masseur: Masseur | None = None
    room: Room | None = None
    # Real instants when the column can take bookings (a masseur's hours, or anybody's for a room).
    working: list[Interval] = field(default_factory=list)
    off: list[Interval] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    url: str | None = None
    holiday: str = ""  # the public holiday's name, if the column's day is one
    closed: bool = False  # the parlor is closed that day (parlor.ClosedDay)


@dataclass
class Grid:
    columns: list[Column]
    # [(local wall time, [cells of that row, the ones covered by a taller cell left out])]
    rows: list[tuple[datetime.time, list[Cell]]]

    def lines(self, *, can_move: bool, show_masseur: bool = False, show_room: bool = False) -> list[str]:
        """The table rows' markup, each row's heading and cells, as sessions/_calendar_grid.html once drew
        them with its own tags: a full day is over a thousand cells and a few hundred entries, at ~20 µs a
        template tag. Every value is escaped here; the template marks nothing else safe."""
        texts = _CellTexts(
            tz=timezone.get_current_timezone(),
            can_move=can_move,
            show_masseur=show_masseur,
            show_room=show_room,
            book_title=conditional_escape(gettext("Book at this time")),
            drag_title=conditional_escape(gettext("Drag to another time or masseur to move it")),
            course_title=conditional_escape(gettext("Session of the course")),
            drops={id(column): _drop_attrs(column) for column in self.columns} if can_move else {},
        )
        lines = []
        for time, cells in self.rows:
            label = f"{time:%H:%M}" if time.minute == 0 else f'<span class="small">{time:%H:%M}</span>'
            parts = [f'<th scope="row" class="text-muted fw-normal text-nowrap">{label}</th>']
            parts.extend(_cell_markup(cell, texts) for cell in cells)
            lines.append(mark_safe("".join(parts)))  # every value in it escaped by _cell_markup
        return lines


@dataclass(frozen=True)
class _CellTexts:
    """What every cell's markup is made with, looked up once per page."""

    tz: datetime.tzinfo
    can_move: bool
    show_masseur: bool
    show_room: bool
    book_title: str
    drag_title: str
    course_title: str
    drops: dict[int, str]  # id(column) -> its drop attributes


def _cell_markup(cell: "Cell", texts: _CellTexts) -> str:
    if cell.kind == "appointment":
        return _entry_markup(cell, texts)
    if cell.kind == "free":
        drop = ""
        if texts.can_move:
            starts = cell.starts_at.astimezone(texts.tz).strftime("%Y-%m-%dT%H:%M")
            drop = f' data-drop-starts="{starts}"{texts.drops.get(id(cell.column), "")}'
        link = (
            f'<a href="{conditional_escape(cell.book_url)}" class="d-block text-decoration-none text-success"'
            f' data-testid="book-link" title="{texts.book_title}">+</a>'
            if cell.book_url
            else ""
        )
        return f'<td data-testid="free-cell"{drop}>{link}</td>'
    if cell.kind == "past":
        return '<td class="bg-light"></td>'
    return '<td class="bg-secondary-subtle"></td>'


def _escape(value) -> str:
    """As the template escapes a value (django.utils.html.escape), without making a SafeString of each: a few
    thousand a page. The entries' strings are plain, never marked safe."""
    return html.escape(str(value))


def _entry_markup(cell: "Cell", texts: _CellTexts) -> str:
    """An appointment's cell: the status only, never a health detail (everyone who books sees the calendar);
    the findings behind a hold only for who may see the health record (sessions/_hold_reason.html decides)."""
    entry = cell.entry
    e = _escape
    drag = (
        f' draggable="true" data-move-url="{e(entry.move_url)}" title="{texts.drag_title}"'
        if texts.can_move and entry.move_url
        else ""
    )
    times = e(entry.times)
    when = f'<a href="{e(entry.url)}" class="link-dark">{times}</a>' if entry.url else times
    flags = (
        f'<span class="badge bg-danger" data-testid="flag-mark" title="{e(entry.flags_title)}">'
        f"⚑ {e(entry.open_flags)}</span>"
        if entry.open_flags
        else ""
    )
    what = e(entry.type_name)
    if texts.show_masseur:
        what += f" · {e(entry.masseur_name)}"
    if texts.show_room:
        what += f" · {e(entry.room_name)}"
    progress = (
        f'<span class="badge bg-light text-dark border" data-testid="progress" title="{texts.course_title}">'
        f"{e(entry.progress)}</span>"
        if entry.progress
        else ""
    )
    verdict = ""
    if entry.verdict_marked:
        status = entry.verdict.status
        verdict = (
            f'<span class="badge {e(status.badge)}" data-testid="verdict-badge" data-status="{e(status.value)}">'
            f"{e(status.label)}</span>"
        )
    hold = (
        render_to_string("sessions/_hold_reason.html", {"hold": entry.hold, "can_view_health": entry.health_visible})
        if entry.hold
        else ""
    )
    return (
        f'<td rowspan="{cell.rowspan}" class="{e(entry.cell_class)}">\n'
        f'<div class="small lh-sm" data-testid="calendar-entry" data-appointment="{e(entry.pk)}"'
        f' data-status="{e(entry.status)}"{drag}>\n'
        f'  <div class="fw-semibold">\n    {when}\n    {flags}\n  </div>\n'
        f'  <div><a href="{e(entry.client_url)}">{e(entry.client_name)}</a></div>\n'
        f'  <div class="text-muted">{what}</div>\n'
        f"  <div>\n"
        f'    <span class="badge {e(entry.status_badge)}" data-testid="status">{e(entry.status_label)}</span>\n'
        f"    {progress}\n    {verdict}\n  </div>\n"
        f"  {hold}\n"
        f'  <div class="text-muted fst-italic">{e(entry.rest_until)}</div>\n'
        f"</div></td>"
    )


def _drop_attrs(column: "Column | None") -> str:
    """Where a drag onto the column's free cells moves an appointment to: its room or its masseur."""
    if column is None:
        return ""
    if column.room and not column.masseur:
        return f' data-drop-room="{column.room.pk}"'
    if column.masseur:
        return f' data-drop-masseur="{column.masseur.pk}"'
    return ""


def _minutes(instant: datetime.datetime, day: datetime.date, tz: ZoneInfo) -> int:
    """Local wall-clock minutes since midnight of `day` (past midnight keeps counting)."""
    local = instant.astimezone(tz)
    return (local.date() - day).days * 24 * 60 + local.hour * 60 + local.minute


def _grid_bounds(columns: list[Column], tz: ZoneInfo) -> tuple[int, int]:
    """Minutes from midnight of the first and last row: all working hours and appointments, on the step."""
    step = int(GRID_STEP.total_seconds() // 60)
    lows, highs = [], []
    for column in columns:
        for lo, hi in column.working:
            lows.append(_minutes(lo, column.day, tz))
            highs.append(_minutes(hi, column.day, tz))
        for entry in column.entries:
            lows.append(_minutes(entry.appointment.starts_at, column.day, tz))
            highs.append(_minutes(entry.appointment.blocks_until, column.day, tz))
    if not lows:
        lows, highs = [DEFAULT_HOURS[0].hour * 60], [DEFAULT_HOURS[1].hour * 60]
    low = max(0, min(lows)) // step * step
    high = min(24 * 60, math.ceil(max(highs) / step) * step)
    return low, max(high, low + step)


def _instant(day: datetime.date, minutes: int, tz: ZoneInfo) -> datetime.datetime:
    wall = datetime.datetime.combine(day, datetime.time.min) + datetime.timedelta(minutes=minutes)
    return wall.replace(tzinfo=tz)


def build_grid(
    columns: list[Column],
    *,
    now: datetime.datetime,
    free_cell: Callable[[Column, datetime.datetime], Cell],
) -> Grid:
    """Lay the columns' entries on a GRID_STEP table; `free_cell` decides what an empty working cell offers."""
    tz = kyiv()
    step = int(GRID_STEP.total_seconds() // 60)
    low, high = _grid_bounds(columns, tz)
    count = (high - low) // step
    # Per column: row -> ("start", entry, rowspan) or ("covered",).
    layouts: list[dict[int, tuple]] = []
    for column in columns:
        layout: dict[int, tuple] = {}
        for entry in sorted(column.entries, key=lambda e: e.appointment.starts_at):
            start = round((_minutes(entry.appointment.starts_at, column.day, tz) - low) / step)
            end = round((_minutes(entry.appointment.blocks_until, column.day, tz) - low) / step)
            start = min(max(start, 0), count - 1)
            while start < count and start in layout:
                start += 1
            if start >= count:
                continue  # cannot happen for live appointments; the page lists none twice
            end = min(max(end, start + 1), count)
            span = next((row for row in range(start + 1, end) if row in layout), end) - start
            layout[start] = ("start", entry, span)
            for row in range(start + 1, start + span):
                layout[row] = ("covered",)
        layouts.append(layout)

    rows = []
    for index in range(count):
        minutes = low + index * step
        cells = []
        # The day view's columns all share one day: its row's instant is made once, not once a column.
        instants: dict[datetime.date, datetime.datetime] = {}
        for column, layout in zip(columns, layouts, strict=True):
            placed = layout.get(index)
            if placed is None or placed[0] == "start":
                starts_at = instants.get(column.day)
                if starts_at is None:
                    starts_at = instants[column.day] = _instant(column.day, minutes, tz)
            if placed is None:
                cell = _empty_cell(column, starts_at, now=now, free_cell=free_cell)
                cell.column = column
                cells.append(cell)
            elif placed[0] == "start":
                cells.append(Cell("appointment", starts_at, rowspan=placed[2], entry=placed[1], column=column))
        label = datetime.time((minutes // 60) % 24, minutes % 60)
        rows.append((label, cells))
    return Grid(columns=columns, rows=rows)


def _empty_cell(column: Column, starts_at: datetime.datetime, *, now, free_cell) -> Cell:
    ends_at = starts_at + GRID_STEP
    working = any(lo <= starts_at and ends_at <= hi for lo, hi in column.working)
    if not working or overlaps_any(column.off, starts_at, ends_at):
        return Cell("closed", starts_at)
    if starts_at < now:
        return Cell("past", starts_at)
    return free_cell(column, starts_at)


# --- day view -------------------------------------------------------------------------------------


@dataclass
class DayCalendar:
    day: datetime.date
    by: str  # "masseurs" or "rooms"
    grid: Grid
    # Cancelled and no-show appointments: listed under the grid, struck through.
    not_live: list[Entry]
    count: int
    holiday: str = ""  # the public holiday's name, when the day is one
    closed: ClosedDay | None = None  # the parlor is closed that day
    closed_reason: str = ""
    # The printed day sheets: each masseur's live appointments of the day, in order.
    sheets: list[tuple[Masseur, list[Entry]]] = field(default_factory=list)


def _hours_by_masseur(hours: Iterable[WorkingHours]) -> dict[int, dict[int, list[tuple]]]:
    result: dict[int, dict[int, list[tuple]]] = defaultdict(lambda: defaultdict(list))
    for interval in hours:
        result[interval.masseur_id][interval.weekday].append((interval.starts, interval.ends))
    return result


def day_calendar(
    *, day: datetime.date, by: str = "masseurs", can_book: bool, now=None, viewer=None, may_book_closed: bool = False
) -> DayCalendar:
    """The day view: eight queries plus three for the verdicts, whatever the number of appointments (and two
    for the holds when any is on hold). On a closed day the free cells offer no booking unless
    `may_book_closed` (the manager)."""
    tz = kyiv()
    now = now or timezone.now()
    start, end = local_day_bounds(day, tz)
    holiday = closures.public_holidays(day, day).get(day, "")
    closed = closures.closed_on(day)
    if closed is not None and not may_book_closed:
        can_book = False

    hours = list(WorkingHours.objects.filter(weekday=day.weekday(), masseur__is_active=True).select_related("masseur"))
    masseurs = {interval.masseur_id: interval.masseur for interval in hours}
    week_hours = _hours_by_masseur(hours)
    off: dict[int, list[Interval]] = defaultdict(list)
    for masseur_id, lo, hi in TimeOff.objects.filter(starts_at__lt=end, ends_at__gt=start).values_list(
        "masseur_id", "starts_at", "ends_at"
    ):
        off[masseur_id].append((lo, hi))
    off = {k: merge(v) for k, v in off.items()}
    rooms = list(Room.objects.filter(is_active=True).order_by("name"))

    appointments = _appointments(Q(starts_at__gte=start, starts_at__lt=end))
    entries = _entries(appointments, detail_url=pk_url_maker("sessions:appointment-detail"), viewer=viewer)
    live = [e for e in entries if e.appointment.is_live]
    not_live = [e for e in entries if not e.appointment.is_live]

    working = {
        masseur_id: working_intervals(day, week_hours[masseur_id].get(day.weekday(), []), tz) for masseur_id in masseurs
    }
    # Off all the working day: not working that day, no column unless something is booked.
    booked = {e.appointment.masseur_id for e in live}
    for masseur_id in list(masseurs):
        away = all(_covered(off.get(masseur_id, []), lo, hi) for lo, hi in working[masseur_id])
        if away and masseur_id not in booked:
            del masseurs[masseur_id]
    for entry in live:
        masseurs.setdefault(entry.appointment.masseur_id, entry.appointment.masseur)

    by_masseur = _grouped(live, key=lambda a: a.masseur_id)
    masseur_busy = _busy(live, key=lambda a: a.masseur_id)
    room_busy = _busy(live, key=lambda a: a.room_id)
    base = url_maker("sessions:appointment-book")() if can_book else None

    if by == "rooms":
        by_room = _grouped(live, key=lambda a: a.room_id)
        all_rooms = {room.pk: room for room in rooms}
        for entry in live:
            all_rooms.setdefault(entry.appointment.room_id, entry.appointment.room)
        anybody = merge(interval for intervals in working.values() for interval in intervals)
        ordered_masseurs = sorted(masseurs.values(), key=lambda m: (m.display_name, m.pk))
        columns = [
            Column(
                key=f"room-{room.pk}",
                label=room.name,
                day=day,
                room=room,
                working=anybody if room.is_active else [],
                entries=by_room.get(room.pk, []),
            )
            for room in sorted(all_rooms.values(), key=lambda r: (r.name, r.pk))
        ]

        def free_cell(column: Column, at: datetime.datetime) -> Cell:
            if base is None:
                return Cell("free", at)
            for masseur in ordered_masseurs:
                if (
                    any(lo <= at and at + GRID_STEP <= hi for lo, hi in working.get(masseur.pk, []))
                    and not overlaps_any(off.get(masseur.pk, []), at, at + SUGGESTION_WINDOW)
                    and not overlaps_any(masseur_busy.get(masseur.pk, []), at, at + SUGGESTION_WINDOW)
                ):
                    return Cell(
                        "free",
                        at,
                        book_url=booking_url(base, masseur=masseur.pk, room=column.room.pk, starts_at=_iso(at)),
                    )
            return Cell("free", at)

    else:
        week_url = url_maker("sessions:calendar-week")
        columns = [
            Column(
                key=f"masseur-{masseur.pk}",
                label=masseur.display_name,
                day=day,
                masseur=masseur,
                working=working.get(masseur.pk, []),
                off=off.get(masseur.pk, []),
                entries=by_masseur.get(masseur.pk, []),
                url=booking_url(week_url(day.isoformat()), masseur=masseur.pk),
            )
            for masseur in sorted(masseurs.values(), key=lambda m: (m.display_name, m.pk))
        ]

        @functools.cache
        def room_and_start(at: datetime.datetime) -> str:
            """The booking link's query after the masseur: the same room is suggested in every column of a row,
            so it is looked for once a row, not once a cell."""
            room = free_room(rooms, room_busy, at)
            return urlencode({"room": room.pk, "starts_at": _iso(at)} if room else {"starts_at": _iso(at)})

        def free_cell(column: Column, at: datetime.datetime) -> Cell:
            if base is None:
                return Cell("free", at)
            # As booking_url(base, masseur=, room=, starts_at=) makes it.
            return Cell("free", at, book_url=f"{base}?masseur={int(column.masseur.pk)}&{room_and_start(at)}")

    for column in columns:
        column.holiday, column.closed = holiday, closed is not None
    grid = build_grid(columns, now=now, free_cell=free_cell)
    sheets = [
        (masseurs[masseur_id], entries)
        for masseur_id, entries in sorted(
            by_masseur.items(), key=lambda item: (masseurs[item[0]].display_name, item[0])
        )
    ]
    return DayCalendar(
        day=day,
        by=by,
        grid=grid,
        not_live=not_live,
        count=len(live),
        holiday=holiday,
        closed=closed,
        closed_reason=closures.closed_reason(closed, {day: holiday} if holiday else {}) if closed else "",
        sheets=sheets,
    )


def _covered(intervals: list[Interval], lo: datetime.datetime, hi: datetime.datetime) -> bool:
    """Is [lo, hi) inside one of the merged intervals?"""
    return any(a <= lo and hi <= b for a, b in intervals)


def _grouped(entries: list[Entry], *, key) -> dict[int, list[Entry]]:
    """The entries by a key of their appointment, each group in the given order."""
    groups: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[key(entry.appointment)].append(entry)
    return groups


def _busy(entries: list[Entry], *, key) -> dict[int, list[Interval]]:
    busy: dict[int, list[Interval]] = defaultdict(list)
    for entry in entries:
        busy[key(entry.appointment)].append((entry.appointment.starts_at, entry.appointment.blocks_until))
    return {k: merge(v) for k, v in busy.items()}


def free_room(rooms: list[Room], room_busy: dict[int, list[Interval]], at: datetime.datetime) -> Room | None:
    """The first active room free for a usual session with its rest from `at`, if any."""
    return next(
        (room for room in rooms if not overlaps_any(room_busy.get(room.pk, []), at, at + SUGGESTION_WINDOW)),
        None,
    )


def _iso(at: datetime.datetime) -> str:
    return at.astimezone(kyiv()).isoformat()


# --- week view ------------------------------------------------------------------------------------


@dataclass
class WeekCalendar:
    masseur: Masseur
    monday: datetime.date
    days: list[datetime.date]
    grid: Grid
    not_live: list[Entry]
    count: int


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def week_calendar(
    *, masseur: Masseur, day: datetime.date, can_book: bool, now=None, viewer=None, may_book_closed: bool = False
) -> WeekCalendar:
    """One masseur's week (Monday to Sunday): seven queries plus three per day with appointments for the
    verdicts. Public holidays and closed days are marked; a closed day's free cells offer no booking unless
    `may_book_closed` (the manager)."""
    tz = kyiv()
    now = now or timezone.now()
    monday = week_start(day)
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    start, end = local_day_bounds(days[0], tz)[0], local_day_bounds(days[-1], tz)[1]

    week_hours = _hours_by_masseur(WorkingHours.objects.filter(masseur=masseur))[masseur.pk]
    off = merge(
        TimeOff.objects.filter(masseur=masseur, starts_at__lt=end, ends_at__gt=start).values_list(
            "starts_at", "ends_at"
        )
    )
    rooms = list(Room.objects.filter(is_active=True).order_by("name"))
    appointments = _appointments(Q(masseur=masseur, starts_at__gte=start, starts_at__lt=end))
    entries = _entries(appointments, detail_url=pk_url_maker("sessions:appointment-detail"), viewer=viewer)
    live = [e for e in entries if e.appointment.is_live]
    not_live = [e for e in entries if not e.appointment.is_live]
    # Every masseur's bookings hold the rooms: one light query for the room suggestions.
    room_busy: dict[int, list[Interval]] = defaultdict(list)
    if can_book:
        for room_id, lo, hi in (
            Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
            .exclude(status__in=Appointment.NOT_LIVE)
            .values_list("room_id", "starts_at", "blocks_until")
        ):
            room_busy[room_id].append((lo, hi))
    room_busy = {k: merge(v) for k, v in room_busy.items()}

    by_day = _grouped(live, key=lambda a: a.starts_at.astimezone(tz).date())
    day_url = url_maker("sessions:calendar-day")
    holidays = closures.public_holidays(days[0], days[-1])
    closed = closures.closed_days(days[0], days[-1])
    columns = [
        Column(
            key=d.isoformat(),
            label=d.isoformat(),
            day=d,
            masseur=masseur,
            working=working_intervals(d, week_hours.get(d.weekday(), []), tz) if masseur.is_active else [],
            off=off,
            entries=by_day.get(d, []),
            url=day_url(d.isoformat()),
            holiday=holidays.get(d, ""),
            closed=d in closed,
        )
        for d in days
    ]
    base = url_maker("sessions:appointment-book")() if can_book else None

    def free_cell(column: Column, at: datetime.datetime) -> Cell:
        if base is None or (column.closed and not may_book_closed):
            return Cell("free", at)
        room = free_room(rooms, room_busy, at)
        return Cell(
            "free",
            at,
            book_url=booking_url(base, masseur=masseur.pk, room=room.pk if room else None, starts_at=_iso(at)),
        )

    grid = build_grid(columns, now=now, free_cell=free_cell)
    return WeekCalendar(masseur=masseur, monday=monday, days=days, grid=grid, not_live=not_live, count=len(live))


# --- reception dashboard --------------------------------------------------------------------------


@dataclass
class CourseToBook:
    course: Course
    booked: int
    completed: int
    url: str | None

    @property
    def to_book(self) -> int:
        return max(self.course.planned_sessions - self.booked, 0)


@dataclass
class ReceptionDashboard:
    today: list[Entry]
    on_hold: list[Entry]
    courses: list[CourseToBook]
    # Sessions awaiting a doctor's clearance that start within two days: the front desk calls the client.
    awaiting: list[Entry] = field(default_factory=list)


def reception_dashboard(*, day: datetime.date, viewer=None) -> ReceptionDashboard:
    """Today's appointments, those on hold from today on with why, the sessions awaiting a clearance within
    48 hours, courses with sessions still to book: five queries (two more for the holds when any is)."""
    tz = kyiv()
    start, end = local_day_bounds(day, tz)
    detail = pk_url_maker("sessions:appointment-detail")
    soon = max(start, timezone.now()) + AWAITING_SOON
    appointments = _appointments(
        Q(starts_at__gte=start, starts_at__lt=end) & ~Q(status=Appointment.Status.CANCELLED)
        | Q(starts_at__gte=start, status=Appointment.Status.ON_HOLD)
        | Q(starts_at__gte=start, starts_at__lt=soon, status=Appointment.Status.AWAITING_CLEARANCE)
    )
    entries = _entries(appointments, with_verdicts=False, detail_url=detail, viewer=viewer)
    today = [e for e in entries if e.appointment.starts_at < end]
    on_hold = [e for e in entries if e.appointment.status == Appointment.Status.ON_HOLD]
    awaiting = [e for e in entries if e.appointment.status == Appointment.Status.AWAITING_CLEARANCE]

    course_url = url_maker("sessions:course-detail")
    live = ~Q(appointments__status__in=Appointment.NOT_LIVE)
    courses = (
        Course.objects.filter(status__in=[Course.Status.PLANNED, Course.Status.ACTIVE])
        .annotate(
            booked=Count("appointments", filter=live),
            completed=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED)),
        )
        .filter(booked__lt=F("planned_sessions"))
        .select_related("client", "massage_type", "preferred_masseur")
        .order_by("created_at", "pk")
    )
    return ReceptionDashboard(
        today=today,
        on_hold=on_hold,
        awaiting=awaiting,
        courses=[CourseToBook(c, c.booked, c.completed, course_url(c.pk)) for c in courses],
    )
