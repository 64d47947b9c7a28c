"""The operations of issue 15's table, each with its bare-SQL floor.

Each operation calls the application's own code (services, selectors, or a whole page through
Django's test client: middleware, view, template) on the generated world. Its floor is the raw SQL
that operation cannot do without, written by hand against today's schema and run on the same
connection: the data it reads, the rows it writes. Ratio = the operation's median / the floor's median.

The subjects are picked once (untimed): tomorrow (a whole working day ahead, so every free cell is
bookable), the masseur with the most appointments tomorrow, the regular client with about 200
sessions, a client with a clean, fresh screening and a free day for the bookings.
"""

import datetime
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import pghistory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from bench.measure import Clock, Operation
from clients.models import Client
from clients.search import normalise_query
from clients.selectors import client_containing_queryset, client_search, client_similar_queryset
from parlor.models import MassageType, Masseur
from screening.models import Screening
from sessions.booking import availability, calendar, selectors, services
from sessions.care import history, myday
from sessions.flags import scan
from sessions.localtime import kyiv
from sessions.models import Appointment, Reminder
from sessions.reminders import catch_up, outbox, planning

LIVE_SQL = "status NOT IN ('cancelled', 'no_show')"
UPCOMING_SQL = "status IN ('booked', 'confirmed', 'on_hold')"
TIME_OFF_SQL = "SELECT masseur_id, starts_at, ends_at FROM parlor_timeoff WHERE starts_at < %s AND ends_at > %s"


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return availability.local_day_bounds(day, kyiv())


@dataclass
class Subjects:
    today: datetime.date
    tomorrow: datetime.date
    scale: float
    classic: MassageType
    busy: Masseur
    usual: Masseur
    busy_today: Masseur
    regular: Client
    reception: object
    manager: object
    book: dict
    course: dict
    reminder_ids: list[int]
    reminder_now: datetime.datetime
    pages: dict  # role -> a logged-in test client
    logins: dict  # role -> (session key, user id)


def _fresh_clean_clients(today: datetime.date, exclude: set[int], busy_from: datetime.date, busy_days: int):
    """Adults screened in the last month with no findings, no appointment in the days given."""
    since = timezone.now() - datetime.timedelta(days=30)
    start = _day_bounds(busy_from)[0]
    end = _day_bounds(busy_from + datetime.timedelta(days=busy_days))[1]
    busy = Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end).values("client_id")
    screened = (
        Screening.objects.filter(taken_at__gte=since)
        .annotate(n=Count("findings"))
        .filter(n=0)
        .values_list("client_id", flat=True)
    )
    adult_before = today.replace(year=today.year - 21)
    return (
        Client.objects.filter(pk__in=screened, birth_date__lt=adult_before, allergens=[])
        .exclude(pk__in=busy)
        .exclude(pk__in=exclude)
        .exclude(screenings__findings__contraindication__kind="absolute")
        .order_by("pk")
    )


def pick_subjects(*, scale: float, regular_id: int) -> Subjects:
    """Who and what each operation works on; raises when the world lacks it."""
    from sessions.booking.page_selectors import verdict_on

    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    classic = MassageType.objects.get(code="classic-back")
    start, end = _day_bounds(tomorrow)
    busy_id = (
        Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .values("masseur_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "masseur_id")
        .values_list("masseur_id", flat=True)
        .first()
    )
    busy = Masseur.objects.select_related("user").get(pk=busy_id)
    # Free slots for the masseur with the most of them tomorrow: a busy parlor is nearly full a day ahead.
    slots_by_masseur: dict = {}
    for slot in availability.free_slots(massage_type=classic, start_date=tomorrow, end_date=tomorrow):
        slots_by_masseur[slot.masseur.pk] = slots_by_masseur.get(slot.masseur.pk, 0) + 1
    usual = (
        Masseur.objects.get(pk=max(sorted(slots_by_masseur), key=slots_by_masseur.get)) if slots_by_masseur else busy
    )
    today_start, today_end = _day_bounds(today)
    today_id = (
        Appointment.objects.filter(starts_at__gte=today_start, starts_at__lt=today_end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .values("masseur_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "masseur_id")
        .values_list("masseur_id", flat=True)
        .first()
    )
    busy_today = Masseur.objects.select_related("user").get(pk=today_id)
    users = get_user_model().objects
    reception = users.get(username="bench-reception")
    manager = users.get(username="bench-manager")
    regular = Client.objects.get(pk=regular_id)

    # One booking from two days ahead: the first free slot of a client who is free that day.
    found = None
    for ahead in range(2, 15):
        book_day = today + datetime.timedelta(days=ahead)
        slots = availability.free_slots(massage_type=classic, start_date=book_day, end_date=book_day)
        if not slots:
            continue
        for candidate in _fresh_clean_clients(today, set(), book_day, 1)[:20]:
            if not verdict_on(client=candidate, massage_type=classic, day=book_day).is_bookable:
                continue
            slot = next(
                (
                    s
                    for s in slots
                    if not selectors.appointment_conflicts(
                        client=candidate, massage_type=classic, masseur=s.masseur, room=s.room, starts_at=s.starts_at
                    )
                ),
                None,
            )
            if slot is not None:
                found = candidate, slot
                break
        if found:
            break
    if found is None:
        raise RuntimeError("no free slot for a booking in the next two weeks")
    book_client, slot = found
    book = {"client": book_client, "masseur": slot.masseur, "room": slot.room, "starts_at": slot.starts_at}

    # A ten-session daily course from three days ahead, with the busiest masseur at 10:00 if free.
    course_start = today + datetime.timedelta(days=3)
    course_client = next(
        c
        for c in _fresh_clean_clients(today, {book_client.pk}, course_start, 20)[:50]
        if verdict_on(client=c, massage_type=classic, day=course_start).is_bookable
    )
    propose_args = {
        "client": course_client,
        "massage_type": classic,
        "start_date": course_start,
        "planned_sessions": 10,
        "cadence": "daily",
        "masseur": busy,
        "preferred_time": datetime.time(10, 0),
    }
    proposal = services.course_propose(**propose_args)
    sessions = [(p.starts_at, p.masseur, p.room) for p in proposal if p.is_bookable]
    course = {"propose": propose_args, "sessions": sessions, "bookable": len(sessions)}

    # Tomorrow's reminders: every live appointment of tomorrow (the generator planned none of them). A client
    # without consent or email is skipped by the dispatcher: claimed, checked and closed, work all the same.
    reminder_ids = list(
        Appointment.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED],
        )
        .order_by("starts_at", "pk")
        .values_list("pk", flat=True)
    )
    last = Appointment.objects.filter(pk__in=reminder_ids).order_by("-starts_at").first()
    reminder_now = planning.appointment_due_at(last.starts_at, offset_hours=24) + datetime.timedelta(minutes=1)

    clients, logins = {}, {}
    for name, user in (("reception", reception), ("manager", manager), ("masseur", busy_today.user)):
        client = HttpClient()
        client.force_login(user)
        clients[name] = client
        logins[name] = (client.cookies[settings.SESSION_COOKIE_NAME].value, user.pk)
    return Subjects(
        today=today,
        tomorrow=tomorrow,
        scale=scale,
        classic=classic,
        busy=busy,
        usual=usual,
        busy_today=busy_today,
        regular=regular,
        reception=reception,
        manager=manager,
        book=book,
        course=course,
        reminder_ids=reminder_ids,
        reminder_now=reminder_now,
        pages=clients,
        logins=logins,
    )


# --- floors: the SQL each operation needs, written by hand ------------------------------------------


def _fetch(cursor, sql: str, params=()) -> list:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _page_sql(cursor, login: tuple[str, int]) -> None:
    """What every logged-in page reads before its own data: the session, the user, the user's permissions."""
    key, user_id = login
    rows = _fetch(
        cursor, "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > now()", [key]
    )
    assert rows
    _fetch(cursor, "SELECT * FROM auth_user WHERE id = %s", [user_id])
    _fetch(
        cursor,
        "SELECT ct.app_label, p.codename FROM auth_permission p"
        " JOIN django_content_type ct ON ct.id = p.content_type_id"
        " WHERE p.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = %s"
        " UNION SELECT gp.permission_id FROM auth_group_permissions gp JOIN auth_user_groups ug"
        " ON ug.group_id = gp.group_id WHERE ug.user_id = %s)",
        [user_id, user_id],
    )


def _verdict_sql(cursor, client_ids: list[int], day: datetime.date) -> None:
    """The facts the verdicts need: each client's screening in force on the day with its findings, and the
    clearances valid that day (the client rows come with the appointments)."""
    end = _day_bounds(day)[1]
    latest = _fetch(
        cursor,
        "SELECT DISTINCT ON (client_id) client_id, id, taken_at FROM screening_screening"
        " WHERE client_id = ANY(%s) AND taken_at < %s ORDER BY client_id, taken_at DESC, id DESC",
        [client_ids, end],
    )
    _fetch(
        cursor,
        "SELECT f.screening_id, c.code, c.kind, c.is_day_of, f.note, f.details FROM screening_finding f"
        " JOIN screening_contraindication c ON c.id = f.contraindication_id WHERE f.screening_id = ANY(%s)",
        [[row[1] for row in latest]],
    )
    _fetch(
        cursor,
        "SELECT client_id, kind, issued_on, valid_until, covers_contraindication_id, covers_massage_type_id"
        " FROM screening_clearance WHERE client_id = ANY(%s) AND issued_on <= %s AND valid_until >= %s",
        [client_ids, day, day],
    )


def floor_free_slots(clock: Clock, *, masseur: Masseur, massage_type: MassageType, days: list[datetime.date]):
    lo, hi = _day_bounds(days[0])[0], _day_bounds(days[-1])[1]
    margin = availability.MAX_BLOCK
    with clock, connection.cursor() as cursor:
        _fetch(
            cursor,
            "SELECT wh.weekday, wh.starts, wh.ends FROM parlor_workinghours wh"
            " JOIN parlor_masseur m ON m.id = wh.masseur_id"
            " JOIN parlor_masseur_qualifications q ON q.masseur_id = m.id AND q.massagetype_id = %s"
            " WHERE wh.masseur_id = %s AND m.is_active AND wh.weekday = ANY(%s)",
            [massage_type.pk, masseur.pk, sorted({d.weekday() for d in days})],
        )
        _fetch(
            cursor,
            "SELECT starts_at, ends_at FROM parlor_timeoff WHERE masseur_id = %s AND starts_at < %s AND ends_at > %s",
            [masseur.pk, hi + margin, lo - margin],
        )
        _fetch(cursor, "SELECT id FROM parlor_room WHERE is_active ORDER BY name")
        _fetch(
            cursor,
            "SELECT masseur_id, room_id, starts_at, blocks_until FROM treatments_appointment"
            f" WHERE starts_at >= %s AND starts_at < %s AND {LIVE_SQL}",
            [lo - margin, hi + margin],
        )


# Who holds [lo, hi): an appointment lasts at most MAX_BLOCK, so bounding its start lets the starts_at index
# serve it, as availability's load does (the exclusion constraints' GiST indexes are chosen badly here).
CLASH_SQL = (
    "SELECT bool_or(masseur_id = %(m)s), bool_or(room_id = %(r)s), bool_or(client_id = %(c)s)"
    " FROM treatments_appointment WHERE starts_at >= %(reach)s AND starts_at < %(hi)s AND blocks_until > %(lo)s"
    f" AND {LIVE_SQL} AND (masseur_id = %(m)s OR room_id = %(r)s OR client_id = %(c)s)"
)

INSERT_APPOINTMENT = (
    "INSERT INTO treatments_appointment (course_id, client_id, massage_type_id, masseur_id, room_id, starts_at,"
    " ends_at, blocks_until, status, booked_by_id, booked_at, cancellation_reason, calendar_sequence)"
    " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],"
    " %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::int[], %s::timestamptz[],"
    " %s::text[], %s::int[]) RETURNING id"
)
INSERT_REMINDER = (
    "INSERT INTO treatments_reminder (client_id, appointment_id, course_id, kind, key, due_at, state, attempts,"
    " reason, created_at) SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[],"
    " %s::timestamptz[], %s::text[], %s::int[], %s::text[], %s::timestamptz[]) RETURNING id"
)


def _insert_appointments(cursor, *, client, massage_type, sessions, booked_by, course_id=None) -> list[int]:
    duration = datetime.timedelta(minutes=massage_type.duration_minutes)
    rest = datetime.timedelta(minutes=massage_type.buffer_minutes)
    now = timezone.now()
    n = len(sessions)
    rows = _fetch(
        cursor,
        INSERT_APPOINTMENT,
        [
            [course_id] * n,
            [client.pk] * n,
            [massage_type.pk] * n,
            [m.pk for _s, m, _r in sessions],
            [r.pk for _s, _m, r in sessions],
            [s for s, _m, _r in sessions],
            [s + duration for s, _m, _r in sessions],
            [s + duration + rest for s, _m, _r in sessions],
            ["booked"] * n,
            [booked_by.pk] * n,
            [now] * n,
            [""] * n,
            [0] * n,
        ],
    )
    return [row[0] for row in rows]


def _insert_reminders(cursor, *, client, appointment_ids, starts, course_id=None, extra_kinds=()) -> None:
    now = timezone.now()
    kinds = ["appointment"] * len(appointment_ids) + [k for k, _ in extra_kinds]
    keys = [f"bench-floor:{pk}:{uuid.uuid4().hex}" for pk in appointment_ids] + [
        f"bench-floor:{k}:{uuid.uuid4().hex}" for k, _ in extra_kinds
    ]
    n = len(kinds)
    _fetch(
        cursor,
        INSERT_REMINDER,
        [
            [client.pk] * n,
            list(appointment_ids) + [None] * len(extra_kinds),
            [course_id] * n,
            kinds,
            keys,
            [s - datetime.timedelta(days=1) for s in starts] + [now] * len(extra_kinds),
            ["due"] * n,
            [0] * n,
            [""] * n,
            [now] * n,
        ],
    )


def _booking_checks_sql(cursor, *, client, massage_type, sessions) -> None:
    """The verdict facts once, then for each session: qualified, working, not off, no clash."""
    day = sessions[0][0].astimezone(kyiv()).date()
    _verdict_sql(cursor, [client.pk], day)
    duration = datetime.timedelta(minutes=massage_type.duration_minutes)
    rest = datetime.timedelta(minutes=massage_type.buffer_minutes)
    for starts_at, masseur, room in sessions:
        local = starts_at.astimezone(kyiv())
        _fetch(
            cursor,
            "SELECT EXISTS (SELECT 1 FROM parlor_masseur_qualifications WHERE masseur_id = %s AND massagetype_id = %s),"
            " EXISTS (SELECT 1 FROM parlor_workinghours WHERE masseur_id = %s AND weekday = %s AND starts <= %s"
            "  AND ends >= %s),"
            " EXISTS (SELECT 1 FROM parlor_timeoff WHERE masseur_id = %s AND starts_at < %s AND ends_at > %s)",
            [
                masseur.pk,
                massage_type.pk,
                masseur.pk,
                local.weekday(),
                local.time(),
                (local + duration).time(),
                masseur.pk,
                starts_at + duration + rest,
                starts_at,
            ],
        )
        _fetch(
            cursor,
            CLASH_SQL,
            {
                "m": masseur.pk,
                "r": room.pk,
                "c": client.pk,
                "lo": starts_at,
                "hi": starts_at + duration + rest,
                "reach": starts_at - availability.MAX_BLOCK,
            },
        )


def floor_book(clock: Clock, *, subjects: Subjects) -> None:
    b = subjects.book
    sessions = [(b["starts_at"], b["masseur"], b["room"])]
    with clock, connection.cursor() as cursor:
        _booking_checks_sql(cursor, client=b["client"], massage_type=subjects.classic, sessions=sessions)
        ids = _insert_appointments(
            cursor, client=b["client"], massage_type=subjects.classic, sessions=sessions, booked_by=subjects.reception
        )
        _insert_reminders(cursor, client=b["client"], appointment_ids=ids, starts=[b["starts_at"]])


def floor_course_book(clock: Clock, *, subjects: Subjects) -> None:
    client = subjects.course["propose"]["client"]
    sessions = subjects.course["sessions"]
    with clock, connection.cursor() as cursor:
        _booking_checks_sql(cursor, client=client, massage_type=subjects.classic, sessions=sessions)
        course_id = _fetch(
            cursor,
            "INSERT INTO treatments_course (client_id, massage_type_id, indication, planned_sessions, cadence,"
            " weekdays, preferred_masseur_id, preferred_time, status, created_by_id, created_at)"
            " VALUES (%s, %s, 'back_pain', 10, 'daily', '{}', %s, '10:00', 'planned', %s, now()) RETURNING id",
            [client.pk, subjects.classic.pk, subjects.busy.pk, subjects.reception.pk],
        )[0][0]
        ids = _insert_appointments(
            cursor,
            client=client,
            massage_type=subjects.classic,
            sessions=sessions,
            booked_by=subjects.reception,
            course_id=course_id,
        )
        _insert_reminders(
            cursor,
            client=client,
            appointment_ids=ids,
            starts=[s for s, _m, _r in sessions],
            course_id=course_id,
            extra_kinds=[("course_booked", None), ("course_ending", None)],
        )


def floor_course_propose(clock: Clock, *, subjects: Subjects) -> None:
    args = subjects.course["propose"]
    start = args["start_date"]
    # The cadence's days fit in three weeks even when the masseur has days off.
    days = [start + datetime.timedelta(days=n) for n in range(21)]
    with clock, connection.cursor() as cursor:
        _fetch(
            cursor,
            "SELECT wh.masseur_id, wh.weekday, wh.starts, wh.ends FROM parlor_workinghours wh"
            " JOIN parlor_masseur m ON m.id = wh.masseur_id"
            " JOIN parlor_masseur_qualifications q ON q.masseur_id = m.id AND q.massagetype_id = %s"
            " WHERE m.is_active",
            [args["massage_type"].pk],
        )
        lo, hi = _day_bounds(days[0])[0], _day_bounds(days[-1])[1]
        _fetch(cursor, TIME_OFF_SQL, [hi, lo])
        _fetch(cursor, "SELECT id FROM parlor_room WHERE is_active ORDER BY name")
        margin = availability.MAX_BLOCK
        _fetch(
            cursor,
            "SELECT masseur_id, room_id, starts_at, blocks_until FROM treatments_appointment"
            f" WHERE starts_at >= %s AND starts_at < %s AND {LIVE_SQL}",
            [lo - margin, hi + margin],
        )
        _fetch(
            cursor,
            f"SELECT starts_at, blocks_until FROM treatments_appointment WHERE client_id = %s AND starts_at >= %s"
            f" AND {LIVE_SQL}",
            [args["client"].pk, lo - margin],
        )


APPOINTMENTS_WITH_ENTRIES = (
    "SELECT a.id, a.starts_at, a.ends_at, a.blocks_until, a.status, a.masseur_id, a.room_id, a.client_id,"
    " a.course_id, c.full_name, c.birth_date, c.guardian_consent_at, c.allergens, mt.code, mt.name_uk,"
    " m.display_name, r.name, co.planned_sessions,"
    " (SELECT count(*) FROM treatments_appointment b WHERE b.course_id = a.course_id AND b.starts_at <= a.starts_at"
    f"   AND b.{LIVE_SQL}) AS number"
    " FROM treatments_appointment a JOIN clients_client c ON c.id = a.client_id"
    " JOIN parlor_massagetype mt ON mt.id = a.massage_type_id JOIN parlor_masseur m ON m.id = a.masseur_id"
    " JOIN parlor_room r ON r.id = a.room_id LEFT JOIN treatments_course co ON co.id = a.course_id"
    " WHERE a.starts_at >= %s AND a.starts_at < %s {extra} ORDER BY a.starts_at, m.display_name, a.id"
)


def _grid_sql(cursor, *, start, end, masseur_id=None) -> list:
    extra = "AND a.masseur_id = %s" if masseur_id else ""
    params = [start, end] + ([masseur_id] if masseur_id else [])
    rows = _fetch(cursor, APPOINTMENTS_WITH_ENTRIES.format(extra=extra), params)
    ids = [row[0] for row in rows]
    _fetch(
        cursor,
        "SELECT appointment_id, count(*) FROM treatments_flag WHERE appointment_id = ANY(%s)"
        " AND acknowledged_at IS NULL GROUP BY appointment_id",
        [ids],
    )
    return rows


def floor_day_calendar(clock: Clock, *, subjects: Subjects, page: bool) -> None:
    day = subjects.tomorrow
    start, end = _day_bounds(day)
    with clock, connection.cursor() as cursor:
        if page:
            _page_sql(cursor, subjects.logins["reception"])
        _fetch(
            cursor,
            "SELECT wh.masseur_id, wh.starts, wh.ends, m.display_name FROM parlor_workinghours wh"
            " JOIN parlor_masseur m ON m.id = wh.masseur_id WHERE wh.weekday = %s AND m.is_active",
            [day.weekday()],
        )
        _fetch(cursor, TIME_OFF_SQL, [end, start])
        _fetch(cursor, "SELECT id, name FROM parlor_room WHERE is_active ORDER BY name")
        rows = _grid_sql(cursor, start=start, end=end)
        _verdict_sql(cursor, sorted({row[7] for row in rows}), day)


def floor_week(clock: Clock, *, subjects: Subjects, page: bool) -> None:
    monday = calendar.week_start(subjects.tomorrow)
    start, end = _day_bounds(monday)[0], _day_bounds(monday + datetime.timedelta(days=6))[1]
    masseur = subjects.busy
    with clock, connection.cursor() as cursor:
        if page:
            _page_sql(cursor, subjects.logins["reception"])
            _fetch(cursor, "SELECT id, display_name FROM parlor_masseur WHERE is_active ORDER BY display_name, id")
        _fetch(cursor, "SELECT weekday, starts, ends FROM parlor_workinghours WHERE masseur_id = %s", [masseur.pk])
        _fetch(
            cursor,
            "SELECT starts_at, ends_at FROM parlor_timeoff WHERE masseur_id = %s AND starts_at < %s AND ends_at > %s",
            [masseur.pk, end, start],
        )
        _fetch(cursor, "SELECT id, name FROM parlor_room WHERE is_active ORDER BY name")
        rows = _grid_sql(cursor, start=start, end=end, masseur_id=masseur.pk)
        by_day: dict = {}
        for row in rows:
            by_day.setdefault(row[1].astimezone(kyiv()).date(), set()).add(row[7])
        for day, client_ids in sorted(by_day.items()):
            _verdict_sql(cursor, sorted(client_ids), day)
        _fetch(
            cursor,
            f"SELECT room_id, starts_at, blocks_until FROM treatments_appointment WHERE starts_at >= %s"
            f" AND starts_at < %s AND {LIVE_SQL}",
            [start, end],
        )


def floor_my_day(clock: Clock, *, subjects: Subjects) -> None:
    start, end = _day_bounds(subjects.today)
    with clock, connection.cursor() as cursor:
        _page_sql(cursor, subjects.logins["masseur"])
        masseur = subjects.busy_today
        _fetch(cursor, "SELECT id FROM parlor_masseur WHERE user_id = %s", [masseur.user_id])
        rows = _grid_sql(cursor, start=start, end=end, masseur_id=masseur.pk)
        _verdict_sql(cursor, sorted({row[7] for row in rows}), subjects.today)


def floor_history(clock: Clock, *, subjects: Subjects, page: bool) -> None:
    client_id = subjects.regular.pk
    with clock, connection.cursor() as cursor:
        if page:
            _page_sql(cursor, subjects.logins["manager"])
            _fetch(cursor, "SELECT * FROM clients_client WHERE id = %s", [client_id])
            # The access trail: the page shows health data, so it writes who opened it.
            _fetch(
                cursor,
                "INSERT INTO clients_accessentry (at, user_id, client_id, page, object_type, object_id, address)"
                " VALUES (now(), %s, %s, 'sessions:client-history', '', '', '127.0.0.1') RETURNING id",
                [subjects.manager.pk, client_id],
            )
        _fetch(
            cursor,
            "SELECT co.*, mt.name_uk, count(a.id) FILTER (WHERE a.status = 'completed') FROM treatments_course co"
            " JOIN parlor_massagetype mt ON mt.id = co.massage_type_id"
            " LEFT JOIN treatments_appointment a ON a.course_id = co.id WHERE co.client_id = %s"
            " GROUP BY co.id, mt.name_uk ORDER BY co.created_at, co.id",
            [client_id],
        )
        screenings = _fetch(
            cursor,
            "SELECT s.id, s.taken_at, s.source, u.first_name, u.last_name FROM screening_screening s"
            " LEFT JOIN auth_user u ON u.id = s.taken_by_id WHERE s.client_id = %s ORDER BY s.taken_at, s.id",
            [client_id],
        )
        _fetch(
            cursor,
            "SELECT f.screening_id, c.code, c.kind, c.name_uk, f.note, f.details FROM screening_finding f"
            " JOIN screening_contraindication c ON c.id = f.contraindication_id WHERE f.screening_id = ANY(%s)",
            [[row[0] for row in screenings]],
        )
        _fetch(cursor, "SELECT * FROM screening_clearance WHERE client_id = %s ORDER BY issued_on, id", [client_id])
        # The newest page of sessions (sessions.care.history.PAGE_SESSIONS, and one more to know of earlier ones).
        rows = _fetch(
            cursor,
            "SELECT a.id, a.starts_at, a.status, mt.name_uk, m.display_name, r.name"
            " FROM treatments_appointment a JOIN parlor_massagetype mt ON mt.id = a.massage_type_id"
            " JOIN parlor_masseur m ON m.id = a.masseur_id JOIN parlor_room r ON r.id = a.room_id"
            " WHERE a.client_id = %s ORDER BY a.starts_at DESC, a.id DESC LIMIT %s",
            [client_id, history.PAGE_SESSIONS + 1],
        )
        ids = [row[0] for row in rows]
        # By appointment id (the one-to-one's unique index), not joined: a join hashes every log and check.
        _fetch(
            cursor,
            "SELECT l.*, u.first_name, u.last_name FROM treatments_sessionlog l"
            " LEFT JOIN auth_user u ON u.id = l.signed_by_id WHERE l.appointment_id = ANY(%s)",
            [ids],
        )
        # The pain chart covers every signed session.
        _fetch(
            cursor,
            "SELECT a.starts_at, l.pain_before, l.pain_after FROM treatments_appointment a"
            " JOIN treatments_sessionlog l ON l.appointment_id = a.id"
            " WHERE a.client_id = %s AND l.status = 'signed' ORDER BY a.starts_at, a.id",
            [client_id],
        )
        _fetch(cursor, "SELECT * FROM treatments_dayofcheck WHERE appointment_id = ANY(%s)", [ids])
        _fetch(cursor, "SELECT * FROM treatments_flag WHERE appointment_id = ANY(%s)", [ids])
        _fetch(
            cursor,
            "SELECT ad.* FROM treatments_sessionlogaddendum ad JOIN treatments_sessionlog l ON l.id = ad.log_id"
            " WHERE l.appointment_id = ANY(%s)",
            [ids],
        )


def floor_flag_scan(clock: Clock, *, subjects: Subjects) -> None:
    now = _day_bounds(subjects.tomorrow)[0]
    today = subjects.tomorrow
    with clock, connection.cursor() as cursor:
        due = _fetch(
            cursor,
            "SELECT a.id, a.client_id, a.starts_at, a.booked_at, a.massage_type_id,"
            " (SELECT max(p.starts_at) FROM treatments_appointment p WHERE p.client_id = a.client_id"
            "   AND p.status = 'completed' AND p.starts_at < a.starts_at) AS previous"
            f" FROM treatments_appointment a WHERE a.{UPCOMING_SQL} AND a.starts_at > %s"
            " AND (a.starts_at <= %s OR a.client_id IN (SELECT client_id FROM screening_clearance"
            "   WHERE valid_until >= %s AND valid_until < %s))",
            [now, now + datetime.timedelta(hours=24), today - datetime.timedelta(days=1), today],
        )
        client_ids = sorted({row[1] for row in due})
        screenings = _fetch(
            cursor, "SELECT id, client_id, taken_at FROM screening_screening WHERE client_id = ANY(%s)", [client_ids]
        )
        _fetch(
            cursor,
            "SELECT f.screening_id, c.code, c.kind, c.name_uk, f.note, f.details FROM screening_finding f"
            " JOIN screening_contraindication c ON c.id = f.contraindication_id WHERE f.screening_id = ANY(%s)",
            [[row[0] for row in screenings]],
        )
        _fetch(
            cursor,
            "SELECT * FROM screening_clearance WHERE client_id = ANY(%s) AND valid_until >= %s",
            [client_ids, today - datetime.timedelta(days=400)],
        )
        _fetch(
            cursor,
            "SELECT appointment_id, change_key FROM treatments_flag WHERE appointment_id = ANY(%s)",
            [[row[0] for row in due]],
        )


def floor_planning_scan(clock: Clock, *, subjects: Subjects) -> None:
    now = timezone.now()
    horizon = now + datetime.timedelta(hours=96)
    with clock, connection.cursor() as cursor:
        _fetch(
            cursor,
            "SELECT a.id FROM treatments_appointment a"
            f" WHERE a.{UPCOMING_SQL} AND a.starts_at > %s AND a.starts_at <= %s AND NOT EXISTS ("
            " SELECT 1 FROM treatments_reminder r WHERE r.appointment_id = a.id AND r.kind = 'appointment'"
            " AND r.key = 'appointment:' || a.id || ':appointment:'"
            "  || to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'))",
            [now, horizon],
        )
        _fetch(
            cursor,
            "SELECT DISTINCT ON (a.course_id) a.course_id, a.id, a.starts_at FROM treatments_appointment a"
            f" WHERE a.course_id IN (SELECT course_id FROM treatments_appointment WHERE {UPCOMING_SQL}"
            "   AND starts_at > %s AND starts_at <= %s AND course_id IS NOT NULL)"
            f" AND a.{LIVE_SQL} ORDER BY a.course_id, a.starts_at DESC, a.id DESC",
            [now, horizon],
        )
        _fetch(
            cursor,
            "SELECT co.id FROM treatments_course co WHERE co.created_at >= %s AND co.status <> 'cancelled'"
            " AND NOT EXISTS (SELECT 1 FROM treatments_reminder r WHERE r.course_id = co.id"
            " AND r.kind = 'course_booked')",
            [now - datetime.timedelta(days=2)],
        )


def floor_reminders(clock: Clock, *, subjects: Subjects) -> None:
    """The rows (inserted, claimed, read, finished in one statement each) and the messages over one SMTP
    connection: what the database and the mail server must do, with nothing rendered."""
    ids = subjects.reminder_ids
    now = timezone.now()
    with clock, connection.cursor() as cursor:
        rows = _fetch(
            cursor,
            "SELECT a.id, a.client_id, a.course_id, a.starts_at FROM treatments_appointment a WHERE a.id = ANY(%s)",
            [ids],
        )
        inserted = _fetch(
            cursor,
            INSERT_REMINDER,
            [
                [r[1] for r in rows],
                [r[0] for r in rows],
                [r[2] for r in rows],
                ["appointment"] * len(rows),
                [f"bench-floor:{r[0]}:{uuid.uuid4().hex}" for r in rows],
                [r[3] - datetime.timedelta(days=1) for r in rows],
                ["due"] * len(rows),
                [0] * len(rows),
                [""] * len(rows),
                [now] * len(rows),
            ],
        )
        reminder_ids = [row[0] for row in inserted]
        cursor.execute(
            "UPDATE treatments_reminder SET state = 'sending', claimed_at = now() WHERE id = ANY(%s) AND state = 'due'",
            [reminder_ids],
        )
        messages = _fetch(
            cursor,
            "SELECT r.id, c.full_name, c.email, c.language, a.starts_at, m.display_name, mt.name_uk"
            " FROM treatments_reminder r JOIN clients_client c ON c.id = r.client_id"
            " JOIN treatments_appointment a ON a.id = r.appointment_id JOIN parlor_masseur m ON m.id = a.masseur_id"
            " JOIN parlor_massagetype mt ON mt.id = a.massage_type_id"
            " WHERE r.id = ANY(%s) AND c.reminder_consent AND c.email <> ''",
            [reminder_ids],
        )
        with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=10) as smtp:
            for row in messages:
                message = EmailMessage()
                message["Subject"] = "Нагадування про візит"
                message["From"] = settings.DEFAULT_FROM_EMAIL
                message["To"] = row[2]
                message.set_content(f"{row[1]}, {row[4]:%d.%m %H:%M}, {row[5]}, {row[6]}.\n" + "x" * 1500)
                smtp.send_message(message)
        cursor.execute(
            "UPDATE treatments_reminder SET state = 'sent', sent_at = now(), attempts = 1 WHERE id = ANY(%s)",
            [reminder_ids],
        )


def floor_search(clock: Clock, *, queryset) -> None:
    sql, params = queryset.query.sql_with_params()
    with clock, connection.cursor() as cursor:
        _fetch(cursor, sql, params)


# --- the operations ---------------------------------------------------------------------------------


def _get(client: HttpClient, url: str):
    def run(clock: Clock):
        with clock:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        clock.extra = {"bytes": len(response.content)}

    return run


RACE_THREADS = 8
RACE_SLOTS = 4


def _race_subjects(s: Subjects) -> dict:
    """Four free times two weeks ahead and eight clean clients free that day. The times have distinct
    masseurs and rooms where the parlor has enough (scale 1); a small parlor (scale 0.1: three masseurs)
    shares them between times two hours apart, which then also queue on the masseur's day lock."""
    from sessions.booking.page_selectors import verdict_on

    def times_on(day: datetime.date, *, distinct: bool) -> list:
        chosen, masseurs, rooms = [], set(), set()
        for slot in availability.free_slots(massage_type=s.classic, start_date=day, end_date=day):
            room = next((r for r in slot.rooms if not distinct or r.pk not in rooms), None)
            if room is None or (distinct and slot.masseur.pk in masseurs):
                continue
            if any(abs(slot.starts_at - other[0]) < datetime.timedelta(hours=2) for other in chosen):
                continue  # apart, so one client may win several of them
            chosen.append((slot.starts_at, slot.masseur, room))
            masseurs.add(slot.masseur.pk)
            rooms.add(room.pk)
            if len(chosen) == RACE_SLOTS:
                break
        return chosen

    # Two weeks ahead and later the days are about a third booked: free times for four masseurs.
    chosen = []
    for distinct in (True, False):
        for ahead in range(15, 25):
            day = s.today + datetime.timedelta(days=ahead)
            chosen = times_on(day, distinct=distinct)
            if len(chosen) == RACE_SLOTS:
                break
        if len(chosen) == RACE_SLOTS:
            break
    taken = {s.book["client"].pk, s.course["propose"]["client"].pk}
    clients = [
        c
        for c in _fresh_clean_clients(s.today, taken, day, 1)[:60]
        if verdict_on(client=c, massage_type=s.classic, day=day).is_bookable
    ][:RACE_THREADS]
    if len(chosen) < RACE_SLOTS or len(clients) < RACE_THREADS:
        raise RuntimeError("no free times or clients for the booking race")
    return {"slots": chosen, "clients": clients}


def booking_race(clock: Clock, *, subjects: Subjects, state: dict) -> None:
    """Eight threads (each its own connection) released at once, each trying the four times in its own order:
    one winner a time, and every loser should get the clash message, never a deadlock or a "try again"."""
    import threading
    import time

    from django.core.exceptions import ValidationError
    from django.db import OperationalError
    from django.utils.translation import gettext

    if "subjects" not in state:
        state["subjects"] = _race_subjects(subjects)
    race = state["subjects"]
    slots, clients = race["slots"], race["clients"]
    barrier = threading.Barrier(RACE_THREADS)
    guard = threading.Lock()
    outcome = {"attempts": 0, "won": 0, "clash": 0, "deadlock": 0, "other": 0}
    latencies, booked = [], []
    try_again = gettext("Another booking took this time at the same moment; please try again.")

    def contender(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            for turn in range(RACE_SLOTS):
                starts_at, masseur, room = slots[(index + turn) % RACE_SLOTS]
                started = time.perf_counter()
                try:
                    appointment = services.appointment_book(
                        client=clients[index],
                        massage_type=subjects.classic,
                        masseur=masseur,
                        room=room,
                        starts_at=starts_at,
                        booked_by=subjects.reception,
                    )
                    kind = "won"
                except ValidationError as exc:
                    appointment = None
                    kind = "deadlock" if try_again in exc.messages else "clash"
                except OperationalError as exc:
                    appointment = None
                    kind = "deadlock" if "deadlock" in str(exc) else "other"
                elapsed = (time.perf_counter() - started) * 1000
                with guard:
                    outcome["attempts"] += 1
                    outcome[kind] += 1
                    latencies.append(elapsed)
                    if appointment is not None:
                        booked.append(appointment.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(RACE_THREADS)]
    with clock:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    state["booked"] = booked
    # Over every run so far (the warm-up too): a deadlock is rare enough to need them all.
    totals = state.setdefault("totals", dict.fromkeys(outcome, 0) | {"runs": 0})
    for key, value in outcome.items():
        totals[key] += value
    totals["runs"] += 1
    every = state.setdefault("latencies", [])
    every += latencies
    every.sort()
    p95 = every[min(len(every) - 1, round(0.95 * (len(every) - 1)))] if every else 0.0
    clock.extra = {
        **totals,
        "winners_per_time": totals["won"] / (RACE_SLOTS * totals["runs"]),
        "attempt_p95_ms": round(p95, 1),
    }


def booking_race_reset(state: dict) -> None:
    booked = state.pop("booked", [])
    Reminder.objects.filter(appointment_id__in=booked).delete()
    Appointment.objects.filter(pk__in=booked).delete()


def _past_second_factor(user) -> HttpClient:
    """A manager's pages need the second factor (parlor.middleware.TwoFactorMiddleware): a session
    that passed it with a confirmed authenticator, as after the code page."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    client = HttpClient()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def operations(subjects: Subjects) -> list[Operation]:
    s = subjects
    classic, busy = s.classic, s.busy
    week = [s.tomorrow + datetime.timedelta(days=n) for n in range(7)]
    pages = s.pages

    def free_slots(days):
        def run(clock):
            with clock:
                slots = availability.free_slots(
                    massage_type=classic, start_date=days[0], end_date=days[-1], masseur=s.usual
                )
            clock.extra = {"slots": len(slots)}

        return run

    def book(clock):
        b = s.book
        with pghistory.context(user=s.reception.pk, url="/bench/book"), clock:
            services.appointment_book(
                client=b["client"],
                massage_type=classic,
                masseur=b["masseur"],
                room=b["room"],
                starts_at=b["starts_at"],
                booked_by=s.reception,
            )

    race_state: dict = {}

    def course_propose(clock):
        with clock:
            proposal = services.course_propose(**s.course["propose"])
        clock.extra = {"sessions": len(proposal), "bookable": sum(p.is_bookable for p in proposal)}

    def course_book(clock):
        args = s.course["propose"]
        with pghistory.context(user=s.reception.pk, url="/bench/course"), clock:
            course = services.course_book(
                client=args["client"],
                massage_type=classic,
                indication="back_pain",
                planned_sessions=10,
                cadence="daily",
                preferred_masseur=busy,
                preferred_time=args["preferred_time"],
                sessions=s.course["sessions"],
                booked_by=s.reception,
            )
        clock.extra = {"sessions": course.appointments.count()}

    def day_service(clock):
        with clock:
            data = calendar.day_calendar(day=s.tomorrow, by="masseurs", can_book=True)
        clock.extra = {"appointments": data.count, "columns": len(data.grid.columns), "rows": len(data.grid.rows)}

    def week_service(clock):
        with clock:
            data = calendar.week_calendar(masseur=busy, day=s.tomorrow, can_book=True)
        clock.extra = {"appointments": data.count}

    def my_day_service(clock):
        with clock:
            rows = myday.my_day(masseur=s.busy_today, day=s.today)
        clock.extra = {"appointments": len(rows)}

    def history_service(clock):
        with clock:
            record = history.client_history(client=s.regular)
        clock.extra = {"entries": len(record.entries), "sessions": sum(e.kind == "session" for e in record.entries)}

    reminder_before = {}

    def reminders(clock):
        appointments = list(
            Appointment.objects.filter(pk__in=s.reminder_ids).select_related("client", "course").order_by("starts_at")
        )
        reminder_before["pk"] = Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        plan_clock, send_clock = Clock(), Clock()
        with clock:
            with plan_clock:
                for appointment in appointments:
                    # What a booking plans for each of its appointments.
                    planning.plan_booked(appointment)
            outcome, runs = {}, 0
            with send_clock:
                while True:
                    runs += 1
                    done = outbox.dispatch(now=s.reminder_now)
                    for key, value in done.items():
                        outcome[key] = outcome.get(key, 0) + value
                    if not sum(v for k, v in done.items() if k != "reaped"):
                        break
        clock.extra = {
            "appointments": len(appointments),
            "ms_per_appointment": round(clock.seconds * 1000 / max(len(appointments), 1), 1),
            "plan_ms": round(plan_clock.seconds * 1000),
            "send_ms": round(send_clock.seconds * 1000),
            "dispatcher_runs": runs,
            "outcome": outcome,
        }

    def reminders_reset():
        Reminder.objects.filter(pk__gt=reminder_before.get("pk", 10**12)).delete()

    def flag_scan(clock):
        with clock:
            result = scan.flag_scan(now=_day_bounds(s.tomorrow)[0], since=None)
        clock.extra = {"checked": result.checked, "flags": result.flags, "held": result.held}

    def planning_scan(clock):
        # The two days the generator left planned first (untimed), so the scan finds nothing missing: a quiet minute.
        start, end = _day_bounds(s.tomorrow)[0], _day_bounds(s.tomorrow + datetime.timedelta(days=1))[1]
        for appointment in Appointment.objects.filter(
            starts_at__gte=start, starts_at__lt=end, status__in=Appointment.UPCOMING
        ).select_related("client", "course"):
            planning.plan_booked(appointment)
        with clock:
            created = catch_up.plan_upcoming()
        clock.extra = {"created": created}

    phone = str(s.regular.phone)
    searches = {
        "surname": "шевченко",
        "phone": f"0{phone[4:6]} {phone[6:9]}",
        "latin": "kovalenko",
        "typo": "шевчнко",
    }

    def search(text):
        def run(clock):
            with clock:
                found = client_search(text)
            clock.extra = {"found": len(found)}

        return run

    def search_floor(text):
        normal = normalise_query(text)
        queryset = client_containing_queryset(normal)

        def run(clock):
            if text == searches["typo"]:
                # The fuzzy step: the substring query finds nothing, then the trigram one.
                floor_search(clock, queryset=queryset)
                with connection.cursor() as cursor, clock:
                    cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)")
                floor_search(clock, queryset=client_similar_queryset(normal))
            else:
                floor_search(clock, queryset=queryset)

        return run

    day_url = reverse("sessions:calendar-day", args=[s.tomorrow.isoformat()])
    week_url = reverse("sessions:calendar-week", args=[s.tomorrow.isoformat()]) + f"?masseur={busy.pk}"
    history_url = reverse("sessions:client-history", args=[s.regular.pk])
    history_page = _past_second_factor(s.manager)
    ops = [
        Operation(
            "free_slots_1d",
            "free slots, 1 masseur, 1 day",
            free_slots(week[:1]),
            lambda c: floor_free_slots(c, masseur=s.usual, massage_type=classic, days=week[:1]),
            mode="read",
            repeat=60,
            issue_ms=17,
            target_ms=5,
        ),
        Operation(
            "free_slots_7d",
            "free slots, 1 masseur, 7 days",
            free_slots(week),
            lambda c: floor_free_slots(c, masseur=s.usual, massage_type=classic, days=week),
            mode="read",
            repeat=40,
            issue_ms=41,
            target_ms=10,
        ),
        Operation(
            "book_one",
            "book one appointment",
            book,
            lambda c: floor_book(c, subjects=s),
            repeat=40,
            issue_ms=50,
            target_ms=15,
            note="rolled back after each run (the commit is not timed)",
        ),
        Operation(
            "course_book_10",
            "book a 10-session course",
            course_book,
            lambda c: floor_course_book(c, subjects=s),
            repeat=15,
            issue_ms=561,
            target_ms=100,
            note="rolled back after each run",
        ),
        Operation(
            "booking_race",
            f"booking race: {RACE_THREADS} threads x {RACE_SLOTS} contested times",
            lambda c: booking_race(c, subjects=s, state=race_state),
            mode="commit",
            reset=lambda: booking_race_reset(race_state),
            repeat=5,
            note="extra: attempts, won, clash (the clear message), deadlock (or 'try again'), attempt p95",
        ),
        Operation(
            "course_propose_10",
            "propose a 10-session course",
            course_propose,
            lambda c: floor_course_propose(c, subjects=s),
            mode="read",
            repeat=20,
            issue_ms=231,
            target_ms=50,
        ),
        Operation(
            "day_page_30",
            f"day calendar page, {Masseur.objects.filter(is_active=True).count()} masseurs",
            _get(pages["reception"], day_url),
            lambda c: floor_day_calendar(c, subjects=s, page=True),
            mode="read",
            repeat=12,
            issue_ms=693,
            target_ms=70,
            note="reception (links in free cells); test client: middleware, view, template",
        ),
        Operation(
            "day_service_30",
            "  its selector (calendar.day_calendar)",
            day_service,
            lambda c: floor_day_calendar(c, subjects=s, page=False),
            mode="read",
            repeat=12,
        ),
        Operation(
            "my_day_page",
            "day page, 1 masseur (My day, today)",
            _get(pages["masseur"], reverse("sessions:my-day")),
            lambda c: floor_my_day(c, subjects=s),
            mode="read",
            repeat=30,
            issue_ms=98,
            target_ms=20,
        ),
        Operation(
            "my_day_service",
            "  its selector (myday.my_day)",
            my_day_service,
            lambda c: floor_my_day(c, subjects=s),
            mode="read",
            repeat=30,
        ),
        Operation(
            "week_page_1",
            "week page, 1 masseur",
            _get(pages["reception"], week_url),
            lambda c: floor_week(c, subjects=s, page=True),
            mode="read",
            repeat=15,
            issue_ms=295,
            target_ms=60,
        ),
        Operation(
            "week_service_1",
            "  its selector (calendar.week_calendar)",
            week_service,
            lambda c: floor_week(c, subjects=s, page=False),
            mode="read",
            repeat=15,
        ),
        Operation(
            "history_page_200",
            "client history page, ~200 sessions",
            _get(history_page, history_url),
            lambda c: floor_history(c, subjects=s, page=True),
            mode="read",
            repeat=15,
            issue_ms=385,
            target_ms=60,
            note="manager; each view writes an access-trail row",
        ),
        Operation(
            "history_service_200",
            "  its selector (history.client_history)",
            history_service,
            lambda c: floor_history(c, subjects=s, page=False),
            mode="read",
            repeat=15,
        ),
        Operation(
            "reminders_tomorrow",
            f"reminders for tomorrow ({len(s.reminder_ids)}), planned + sent",
            reminders,
            lambda c: floor_reminders(c, subjects=s),
            mode="commit",
            reset=reminders_reset,
            repeat=4,
            floor_label="SQL+SMTP",
            issue_ms=5500,
            target_ms=1000,
            note="SMTP: aiosmtpd sink on loopback, one connection per claimed batch (outbox.BATCH)",
        ),
        Operation(
            "flag_scan_day",
            "flag scan for a day (tomorrow)",
            flag_scan,
            lambda c: floor_flag_scan(c, subjects=s),
            repeat=6,
            issue_ms=3300,
            target_ms=500,
            note="rolled back after each run",
        ),
        Operation(
            "planning_scan_quiet",
            "reminder planning scan (beat, nothing to do)",
            planning_scan,
            lambda c: floor_planning_scan(c, subjects=s),
            repeat=6,
            note="the issue: ~950 queries, 3.3 s every minute",
        ),
    ]
    for name, text in searches.items():
        ops.append(
            Operation(
                f"search_{name}",
                f"client search, {name} ({text!r})",
                search(text),
                search_floor(text),
                mode="read",
                repeat=40,
            )
        )
    return ops


def describe(subjects: Subjects) -> dict:
    """Who and what the operations used, for the report."""
    s = subjects
    start, end = _day_bounds(s.tomorrow)
    return {
        "today": s.today.isoformat(),
        "tomorrow": s.tomorrow.isoformat(),
        "tomorrow_appointments": Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .count(),
        "busy_masseur": {"pk": s.busy.pk, "name": s.busy.display_name},
        "free_slots_masseur": {"pk": s.usual.pk, "name": s.usual.display_name},
        "my_day_masseur": {"pk": s.busy_today.pk, "name": s.busy_today.display_name},
        "regular_client": {"pk": s.regular.pk, "appointments": s.regular.appointments.count()},
        "booking": {"client": s.book["client"].pk, "starts_at": s.book["starts_at"].isoformat()},
        "course": {"client": s.course["propose"]["client"].pk, "bookable_sessions": s.course["bookable"]},
        "reminders": {"appointments": len(s.reminder_ids), "dispatch_now": s.reminder_now.isoformat()},
    }
