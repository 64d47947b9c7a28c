"""The benchmark's world: a busy parlor (or, at BENCH_SCALE=3, a chain of three) over about two years.

Deterministic: one seeded Random and dates relative to today, so the same scale gives the same
shape on any day. At scale 1: 30 masseurs, 26 rooms, 20,000 clients, about 150,000 appointments
(700 days back, 30 ahead), 50,000 signed session logs with their day-of checks, screenings with
findings, clearances, courses, reminders and a few flags.

Clinically plausible, as the services would have left it:
- every client is screened at a visit when the last screening is older than 80 days (so it is
  never stale on a session's day: SCREENING_VALID_DAYS is 90), with the same chronic findings
  each time; a skin disease comes with a doctor's permission, therapeutic massage with a referral;
- a new client's first session is the general massage, children's massage is for minors with a
  guardian's consent, and only qualified masseurs do a type;
- a client whose screening finds an absolute contraindication is not booked again; a few upcoming
  appointments whose client has one now are on hold with their critical flag;
- every booked, confirmed, checked-in or completed appointment has a verdict that allows it on its
  day (tests/bench checks it through the real verdict selectors).

Planned in memory (computed, non-overlapping schedules: masseur, room and client), then written
with COPY (bench.bulk) through every constraint and trigger. Tomorrow's appointments have no
reminders: the benchmark plans and sends them.
"""

import datetime
import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from bench.bulk import copy_rows, reset_sequence
from clients.demo import FOREIGNERS, GUARDIAN_PREFIXES, UKRAINIAN_MEN, UKRAINIAN_SURNAMES, UKRAINIAN_WOMEN
from clients.models import COMMON_ALLERGENS, Client
from clients.search import search_text_for
from clients.translit import transliterate
from parlor import roles
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours
from screening.models import Clearance, Contraindication, Finding, Screening
from sessions.models import Appointment, Course, DayOfCheck, Flag, Reminder, SessionLog
from sessions.reminders import planning

UTC = datetime.UTC
KYIV = ZoneInfo("Europe/Kyiv")
STEP = datetime.timedelta(minutes=15)
_NAMESPACE = uuid.UUID("b3c5f1d2-15be-4c4e-9d0a-6a1f0e2b7c15")
PASSWORD = "parlor-bench"

# --- sizes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    scale: float
    masseurs: int
    rooms: int
    clients: int
    regulars: int  # clients with about 200 sessions each (the history page's heavy case)
    logs: int  # signed session logs wanted
    days_back: int
    days_ahead: int


def sizes_for(scale: float, *, days_back: int = 700, days_ahead: int = 30) -> Sizes:
    """At scale 1 the issue's sizes; the number of appointments follows from the masseurs' days."""
    masseurs = max(2, round(30 * scale))
    return Sizes(
        scale=scale,
        masseurs=masseurs,
        rooms=max(2, round(masseurs * 0.87)),
        clients=max(60, round(20_000 * scale)),
        regulars=max(1, round(5 * scale)),
        logs=max(20, round(50_000 * scale)),
        days_back=days_back,
        days_ahead=days_ahead,
    )


# --- the parlor's shape ---------------------------------------------------------------------------

# Three shift patterns in turn, so that mornings and evenings are both staffed.
SHIFTS = [
    [(datetime.time(8, 0), datetime.time(17, 0))],
    [(datetime.time(12, 0), datetime.time(21, 0))],
    [(datetime.time(9, 0), datetime.time(13, 0)), (datetime.time(14, 0), datetime.time(19, 0))],
]
# How likely a free stretch of a working day gets a session: a busy parlor.
FILL = {"past": 0.83, "soon": 0.88, "later": 0.35}
SINGLE_TYPES = {"classic-back": 34, "relaxing": 20, "neck-collar": 20, "lumbar": 12, "scoliosis": 6}
COURSE_TYPES = {"classic-back": 30, "lumbar": 25, "neck-collar": 20, "scoliosis": 10, "therapeutic-back": 10}
INDICATIONS = {
    "classic-back": Course.Indication.BACK_PAIN,
    "lumbar": Course.Indication.BACK_PAIN,
    "neck-collar": Course.Indication.OSTEOCHONDROSIS,
    "scoliosis": Course.Indication.SCOLIOSIS,
    "relaxing": Course.Indication.FATIGUE,
    "therapeutic-back": Course.Indication.INJURY_REHAB,
    "children-back": Course.Indication.SCOLIOSIS,
}
# Chronic findings a client carries from screening to screening (weights out of 100).
PROFILES = [
    ((), 62),
    (("high-blood-pressure",), 10),
    (("low-blood-pressure",), 5),
    (("kidney-disease",), 3),
    (("heart-disease",), 2),
    (("liver-disease",), 2),
    (("allergic-reactions",), 3),
    (("product-allergy",), 5),
    (("skin-disease",), 3),
    (("high-blood-pressure", "kidney-disease"), 3),
    (("high-blood-pressure", "heart-disease"), 2),
]
ABSOLUTE = ["thrombosis", "oncology", "clotting-disorder", "serious-cardiovascular", "fracture"]
# A finding added after booking: the flag scan has something to raise.
ADDED_LATER = ["low-blood-pressure", "allergic-reactions", "liver-disease"]
DOCTORS = ["Д-р Савченко О. І.", "Д-р Литвиненко М. П.", "Д-р Гнатюк Т. В.", "Д-р Коваленко І. С.", "Dr. Anna Weber"]
UA_MOBILE_CODES = ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
CANCEL_REASONS = ["Захворіла", "Змінилися плани", "Відрядження", "Client asked to cancel", "Перенесла на інший день"]
PRODUCTS = ["olive oil", "almond oil", "neutral cream", "talc", "rose oil", "orange oil"]
BACK_AREAS = ("neck", "collar-zone", "shoulders", "upper-back", "mid-back", "lower-back")
AREAS_BY_TYPE = {
    "neck-collar": ("neck", "collar-zone", "shoulders"),
    "lumbar": ("mid-back", "lower-back"),
}
UNIVERSAL_AVOID = ["spine", "kidney-area", "heart-area", "lymph-nodes"]
NOTES = {
    "subjective": ["Скарги на біль у попереку.", "Біль у шиї після роботи.", "Стало легше.", "Скарг немає."],
    "objective": ["М'язи спини напружені.", "Напруження помірне.", "Тригерні точки в трапецієподібному м'язі."],
    "assessment": ["Позитивна динаміка.", "Стан стабільний.", "Початок курсу."],
    "plan": ["Продовжити курс.", "Повторити через тиждень.", "Вправи на розтяжку вдома."],
}
SCREEN_AGAIN_AFTER_DAYS = 80


def _key(kind: str, *parts) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, ":".join([kind, *map(str, parts)]))


def _utc(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=KYIV).astimezone(UTC)


def _round_up(instant: datetime.datetime) -> datetime.datetime:
    """Up to the next quarter hour (UTC and Kyiv quarters coincide)."""
    extra = (-instant.minute) % 15
    return instant.replace(second=0, microsecond=0) + datetime.timedelta(minutes=extra)


# --- resources: staff, rooms, hours, time off (the ORM; a few hundred rows) -----------------------


@dataclass
class MasseurPlan:
    pk: int
    user_id: int
    index: int
    hours: list[tuple[datetime.time, datetime.time]]
    day_off: int
    qualified: set[str]
    vacations: list[tuple[datetime.date, datetime.date]]  # inclusive local dates

    def works(self, day: datetime.date) -> bool:
        if day.weekday() == self.day_off:
            return False
        return not any(lo <= day <= hi for lo, hi in self.vacations)


@dataclass
class World:
    """What the planner needs from the database: ids and the catalogues."""

    today: datetime.date
    now: datetime.datetime
    types: dict[str, MassageType]
    catalogue: dict[str, Contraindication]
    masseurs: list[MasseurPlan]
    rooms: list[int]
    reception_id: int
    manager_id: int


def create_resources(sizes: Sizes, *, rng: random.Random, now: datetime.datetime) -> World:
    """Staff logins (password parlor-bench), masseurs with shifts and vacations, rooms."""
    today = timezone.localdate(now)
    users = get_user_model()
    password = make_password(PASSWORD)
    groups = {name: Group.objects.get(name=name) for name in (roles.MANAGER, roles.RECEPTIONIST, roles.MASSEUR)}
    manager = users.objects.create(
        username="bench-manager", first_name="Олена", last_name="Коваль", password=password, is_staff=True
    )
    manager.groups.add(groups[roles.MANAGER])
    reception = users.objects.create(
        username="bench-reception", first_name="Ірина", last_name="Мельник", password=password
    )
    reception.groups.add(groups[roles.RECEPTIONIST])
    rooms = Room.objects.bulk_create(Room(name=f"Кабінет {n + 1}") for n in range(sizes.rooms))
    types = {t.code: t for t in MassageType.objects.all()}
    catalogue = {c.code: c for c in Contraindication.objects.all()}

    plans = []
    first_day = today - datetime.timedelta(days=sizes.days_back)
    last_day = today + datetime.timedelta(days=sizes.days_ahead)
    hours_rows, off_rows = [], []
    for index in range(sizes.masseurs):
        first = (UKRAINIAN_WOMEN if index % 2 else UKRAINIAN_MEN)[index % 20]
        user = users.objects.create(
            username=f"bench-masseur-{index + 1:03d}",
            first_name=first,
            last_name=UKRAINIAN_SURNAMES[index % len(UKRAINIAN_SURNAMES)],
            password=password,
        )
        user.groups.add(groups[roles.MASSEUR])
        masseur = Masseur.objects.create(
            user=user, display_name=f"{first} {UKRAINIAN_SURNAMES[index % 34]} {index + 1}"
        )
        # Every fifth masseur is newer: no therapeutic or children's massage yet.
        qualified = set(types) - ({"therapeutic-back", "children-back"} if index % 5 == 4 else set())
        masseur.qualifications.set([types[code] for code in qualified])
        shift = SHIFTS[index % len(SHIFTS)]
        day_off = index % 7
        for weekday in range(7):
            if weekday != day_off:
                hours_rows += [WorkingHours(masseur=masseur, weekday=weekday, starts=lo, ends=hi) for lo, hi in shift]
        # Two holidays a year of 7-14 days, at places of their own.
        vacations = []
        year_start = first_day
        while year_start <= last_day:
            for half in (0, 182):
                begin = year_start + datetime.timedelta(days=half + rng.randint(0, 160))
                vacations.append((begin, begin + datetime.timedelta(days=rng.randint(6, 13))))
            year_start += datetime.timedelta(days=365)
        for lo, hi in vacations:
            off_rows.append(
                TimeOff(
                    masseur=masseur,
                    starts_at=_utc(lo, datetime.time.min),
                    ends_at=_utc(hi + datetime.timedelta(days=1), datetime.time.min),
                    reason="Відпустка",
                )
            )
        plans.append(MasseurPlan(masseur.pk, user.pk, index, shift, day_off, qualified, vacations))
    WorkingHours.objects.bulk_create(hours_rows)
    TimeOff.objects.bulk_create(off_rows)
    return World(
        today=today,
        now=now,
        types=types,
        catalogue=catalogue,
        masseurs=plans,
        rooms=[room.pk for room in rooms],
        reception_id=reception.pk,
        manager_id=manager.pk,
    )


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class ClientState:
    pk: int
    minor: bool
    female: bool
    adult_female: bool
    profile: tuple[str, ...]
    allergens: list[str]
    consent: bool
    has_email: bool
    birth_date: datetime.date
    last_screened: datetime.date | None = None
    last_screened_at: datetime.datetime | None = None
    visited: bool = False
    first_visit: datetime.datetime | None = None
    in_course: bool = False
    blocked: bool = False
    regular: bool = False
    sessions: int = 0


@dataclass
class CoursePlan:
    pk: int
    client: int
    type_code: str
    masseur: MasseurPlan
    cadence: str
    planned: int
    preferred: datetime.time
    next_day: datetime.date
    created_at: datetime.datetime
    referral_until: datetime.date | None = None
    placed: int = 0
    stuck: int = 0
    done: bool = False
    sessions: list[int] = field(default_factory=list)


@dataclass
class Regular:
    client: int
    masseur: MasseurPlan
    weekdays: tuple[int, ...]
    at: datetime.time
    type_code: str


@dataclass
class Plan:
    sizes: Sizes
    world: World
    clients: list[dict] = field(default_factory=list)
    screenings: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    clearances: list[dict] = field(default_factory=list)
    courses: list[dict] = field(default_factory=list)
    appointments: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    reminders: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    regular_ids: list[int] = field(default_factory=list)


class Planner:
    """Walks the days in order; each day each working masseur's windows are filled: first the
    sessions that are due (courses, regulars), then singles and new courses in the gaps."""

    def __init__(self, sizes: Sizes, world: World, seed: int):
        self.sizes = sizes
        self.world = world
        self.rng = random.Random(seed)
        self.plan = Plan(sizes=sizes, world=world)
        self.clients: list[ClientState] = []
        self.returning: list[int] = []  # adults who came before (indexes into self.clients)
        self.returning_minors: list[int] = []
        self.next_new = 0
        self.new_quota = 0.0
        self.courses: list[CoursePlan] = []
        self.active_courses: list[CoursePlan] = []
        self.regulars: list[Regular] = []
        self.ids = defaultdict(int)
        self._answers_cache: dict[tuple, str] = {}

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # --- clients ----------------------------------------------------------------------------------

    def make_clients(self) -> None:
        rng = self.rng
        profiles = [p for p, _w in PROFILES]
        weights = [w for _p, w in PROFILES]
        # Phone numbers: distinct seven-digit tails, shuffled deterministically.
        tails = rng.sample(range(10**7), self.sizes.clients * 2)
        minors = set(rng.sample(range(self.sizes.clients), max(2, self.sizes.clients * 3 // 100)))
        for index in range(self.sizes.clients):
            pk = index + 1
            minor = index in minors
            foreign = not minor and rng.random() < 0.05
            if foreign:
                name, sex, _country = FOREIGNERS[rng.randrange(len(FOREIGNERS))]
                language = "en"
            else:
                sex = "female" if rng.random() < 0.62 else "male"
                first = rng.choice(UKRAINIAN_WOMEN if sex == "female" else UKRAINIAN_MEN)
                name = f"{first} {rng.choice(UKRAINIAN_SURNAMES)}"
                language = "uk"
            # Ages today; adults were adults two years ago too (the first sessions' verdicts).
            years = rng.randint(6, 15) if minor else rng.randint(21, 78)
            birth = self.world.today - datetime.timedelta(days=years * 365 + rng.randint(0, 360))
            profile = () if minor else rng.choices(profiles, weights)[0]
            allergens = [rng.choice(list(COMMON_ALLERGENS))] if "product-allergy" in profile else []
            phone = f"+380{UA_MOBILE_CODES[tails[index] % len(UA_MOBILE_CODES)]}{tails[index]:07d}"
            has_email = not minor and rng.random() < 0.88
            latin = "".join(c for c in transliterate(name).lower().replace("'", "") if c.isascii() and c != " ")
            email = f"{latin}.{pk}@{rng.choice(EMAIL_DOMAINS)}" if has_email else ""
            row = {
                "id": pk,
                "full_name": name,
                "phone": phone,
                "email": email,
                "birth_date": birth,
                "sex": sex,
                "language": language,
                "preferred_pressure": rng.choice(["", "light", "medium", "medium", "deep"]),
                "allergens": allergens,
                "reminder_consent": rng.random() < 0.9,
                "guardian_name": "",
                "guardian_phone": "",
                "guardian_consent_at": None,
                "notes": "",
                "search_text": search_text_for(full_name=name, phone=phone, email=email),
                "merged_into_id": None,
                "created_by_id": self.world.reception_id,
                "data_consent_withdrawn_at": None,
                "erased_at": None,
            }
            if minor:
                surname = name.split()[-1]
                row["guardian_name"] = f"{rng.choice(GUARDIAN_PREFIXES)}: {rng.choice(UKRAINIAN_WOMEN)} {surname}"
                row["guardian_phone"] = f"+380{UA_MOBILE_CODES[tails[-index - 1] % 12]}{tails[-index - 1]:07d}"
            self.plan.clients.append(row)
            self.clients.append(
                ClientState(
                    pk=pk,
                    minor=minor,
                    female=sex == "female",
                    adult_female=sex == "female" and not minor,
                    profile=profile,
                    allergens=allergens,
                    consent=row["reminder_consent"],
                    has_email=has_email,
                    birth_date=birth,
                )
            )
        # The order new clients arrive in: shuffled, so ids do not follow arrival.
        self.arrivals = list(range(len(self.clients)))
        rng.shuffle(self.arrivals)

    # --- screenings -------------------------------------------------------------------------------

    def _answers(self, codes: tuple[str, ...], allergens: list[str]) -> str:
        """The questionnaire as the form stores it (question texts included), as JSON text."""
        key = (codes, tuple(allergens))
        if key not in self._answers_cache:
            questions = {
                c.code: {
                    "question": c.question_uk or c.name_uk,
                    "answer": c.code in codes,
                    "note": "",
                    "day_of": c.is_day_of,
                }
                for c in self.world.catalogue.values()
                if c.kind != Contraindication.Kind.LOCAL and c.is_active
            }
            self._answers_cache[key] = json.dumps(
                {"questions": questions, "pregnancy_weeks": None, "allergens": allergens}, ensure_ascii=False
            )
        return self._answers_cache[key]

    def screen(self, client: ClientState, taken_at: datetime.datetime, codes: tuple[str, ...] | None = None) -> int:
        codes = client.profile if codes is None else codes
        pk = self._id("screening")
        self.plan.screenings.append(
            {
                "id": pk,
                "client_id": client.pk,
                "taken_at": taken_at,
                "taken_by_id": self.world.reception_id,
                "source": Screening.Source.STAFF,
                "answers": self._answers(codes, client.allergens),
                "submission_key": _key("screening", pk),
                "notes": "",
            }
        )
        for code in codes:
            details = {"allergens": client.allergens} if code == "product-allergy" else {}
            self.plan.findings.append(
                {
                    "id": self._id("finding"),
                    "screening_id": pk,
                    "contraindication_id": self.world.catalogue[code].pk,
                    "note": "",
                    "details": details,
                }
            )
        day = taken_at.astimezone(KYIV).date()
        client.last_screened, client.last_screened_at = day, taken_at
        if "skin-disease" in codes:
            self.clearance(
                client,
                kind=Clearance.Kind.PERMISSION,
                issued_on=day,
                valid_until=day + datetime.timedelta(days=120),
                covers=("skin-disease", None),
                created_at=taken_at,
            )
        return pk

    def clearance(self, client, *, kind, issued_on, valid_until, covers, created_at) -> None:
        contraindication, massage_type = covers
        self.plan.clearances.append(
            {
                "id": self._id("clearance"),
                "client_id": client.pk,
                "kind": kind,
                "doctor_name": self.rng.choice(DOCTORS),
                "issued_on": issued_on,
                "valid_until": valid_until,
                "covers_contraindication_id": self.world.catalogue[contraindication].pk if contraindication else None,
                "covers_massage_type_id": self.world.types[massage_type].pk if massage_type else None,
                "scan": "",
                "notes": "",
                "created_by_id": self.world.reception_id,
                "created_at": created_at,
            }
        )

    def ensure_screened(
        self, client: ClientState, day: datetime.date, starts_at: datetime.datetime, booked_at: datetime.datetime
    ) -> None:
        """A screening at the visit when the last one would be too old on the day; for a session still
        ahead, at the desk when it was booked."""
        if client.last_screened is not None and (day - client.last_screened).days <= SCREEN_AGAIN_AFTER_DAYS:
            return
        taken = starts_at - datetime.timedelta(minutes=20)
        if starts_at > self.world.now:
            taken = booked_at + datetime.timedelta(minutes=1)
        if client.last_screened_at is not None and taken <= client.last_screened_at:
            taken = client.last_screened_at + datetime.timedelta(minutes=1)
        self.screen(client, taken)

    # --- picking clients ----------------------------------------------------------------------------

    def _free(self, index: int, today: set[int]) -> bool:
        client = self.clients[index]
        return not (client.in_course or client.blocked or client.regular or index in today)

    def pick_returning(self, today: set[int], *, minor: bool = False) -> int | None:
        pool = self.returning_minors if minor else self.returning
        for _ in range(6):
            if not pool:
                return None
            index = pool[self.rng.randrange(len(pool))]
            if self._free(index, today):
                return index
        return None

    def peek_new(self) -> int | None:
        """The next client to arrive; taken only when the session is placed (see commit_new)."""
        return self.arrivals[self.next_new] if self.next_new < len(self.arrivals) else None

    # --- placing --------------------------------------------------------------------------------------

    def run(self) -> Plan:
        sizes, world = self.sizes, self.world
        self.make_clients()
        days = [world.today + datetime.timedelta(days=n) for n in range(-sizes.days_back, sizes.days_ahead + 1)]
        self.new_per_day = len(self.clients) * 0.97 / sizes.days_back
        self.make_regulars(days[0])
        for day in days:
            self.fill_day(day)
        self.finish_courses()
        self.add_later_findings()
        self.write_logs()
        self.write_reminders()
        self.plan.regular_ids = [self.clients[r.client].pk for r in self.regulars]
        return self.plan

    def make_regulars(self, first_day: datetime.date) -> None:
        """Clients who come twice a week to the same masseur at the same time for two years."""
        candidates = [i for i in range(len(self.clients)) if not self.clients[i].minor]
        picked = self.rng.sample(candidates, self.sizes.regulars)
        for number, index in enumerate(picked):
            client = self.clients[index]
            client.regular = True
            client.profile = () if number % 2 else ("high-blood-pressure",)
            masseur = self.world.masseurs[number % len(self.world.masseurs)]
            working = [d for d in range(7) if d != masseur.day_off]
            weekdays = (working[number % len(working)], working[(number + 3) % len(working)])
            lo = masseur.hours[0][0]
            at = (datetime.datetime.combine(first_day, lo) + STEP * (2 + number % 8)).time()
            self.regulars.append(Regular(index, masseur, weekdays, at, "classic-back" if number % 2 else "relaxing"))
            self.arrivals.remove(index)

    def end_course(self, course: CoursePlan) -> None:
        course.done = True
        self.clients[course.client].in_course = False

    def fill_day(self, day: datetime.date) -> None:
        world, rng = self.world, self.rng
        ahead = (day - world.today).days
        fill = FILL["past"] if ahead < 0 else FILL["soon"] if ahead <= 7 else FILL["later"]
        self.new_quota += self.new_per_day if ahead < 0 else self.new_per_day * 0.3
        room_busy: dict[int, list] = defaultdict(list)
        today_clients: set[int] = set()
        masseurs = list(world.masseurs)
        rng.shuffle(masseurs)  # nobody always gets the first pick of the rooms
        due = defaultdict(list)
        for course in self.active_courses:
            if course.next_day <= day:
                due[course.masseur.pk].append(course)
        regulars = defaultdict(list)
        for regular in self.regulars:
            if day.weekday() in regular.weekdays:
                regulars[regular.masseur.pk].append(regular)
        for masseur in masseurs:
            if not masseur.works(day):
                for course in due[masseur.pk]:
                    course.next_day = day + datetime.timedelta(days=1)
                continue
            self.fill_masseur_day(day, masseur, fill, due[masseur.pk], regulars[masseur.pk], room_busy, today_clients)
        self.active_courses = [c for c in self.active_courses if not c.done]

    def fill_masseur_day(self, day, masseur, fill, due, regulars, room_busy, today_clients) -> None:
        world, rng = self.world, self.rng
        windows = [(_utc(day, lo), _utc(day, hi)) for lo, hi in masseur.hours]
        placed: list[tuple[datetime.datetime, datetime.datetime]] = []
        rooms = world.rooms

        def fits(lo, hi, session_end):
            inside = any(w_lo <= lo and session_end <= w_hi for w_lo, w_hi in windows)
            return inside and not any(p_lo < hi and lo < p_hi for p_lo, p_hi in placed)

        def room_for(lo, hi):
            for k in range(len(rooms)):
                room = rooms[(masseur.index + k) % len(rooms)]
                if not any(r_lo < hi and lo < r_hi for r_lo, r_hi in room_busy[room]):
                    return room
            return None

        def lengths(type_code):
            massage_type = world.types[type_code]
            duration = datetime.timedelta(minutes=massage_type.duration_minutes)
            return massage_type, duration, duration + datetime.timedelta(minutes=massage_type.buffer_minutes)

        def place(client_index, type_code, lo, room, course=None):
            massage_type, duration, block = lengths(type_code)
            placed.append((lo, lo + block))
            room_busy[room].append((lo, lo + block))
            today_clients.add(client_index)
            self.book(client_index, massage_type, masseur, room, lo, lo + duration, lo + block, day, course)

        def fixed(at_time, type_code):
            """(start, room) nearest the wanted time (within two hours) where the session fits, or None."""
            _massage_type, duration, block = lengths(type_code)
            wanted = _utc(day, at_time)
            for k in range(9):
                for sign in (1, -1) if k else (1,):
                    lo = wanted + sign * k * STEP
                    if fits(lo, lo + block, lo + duration):
                        room = room_for(lo, lo + block)
                        if room is not None:
                            return lo, room
            return None

        # 1. Regulars and the courses' next sessions, at their usual time.
        for regular in regulars:
            if regular.client in today_clients or self.clients[regular.client].blocked:
                continue
            found = fixed(regular.at, regular.type_code)
            if found is not None:
                place(regular.client, regular.type_code, *found)
        for course in due:
            if course.done:
                continue
            if course.referral_until is not None and day > course.referral_until:
                self.end_course(course)
                continue
            found = fixed(course.preferred, course.type_code) if course.client not in today_clients else None
            if found is None:
                course.stuck += 1
                course.next_day = day + datetime.timedelta(days=1)
                if course.stuck > 6:
                    self.end_course(course)
                continue
            place(course.client, course.type_code, *found, course=course)
            course.placed += 1
            course.next_day = day + datetime.timedelta(days=1 if course.cadence == Course.Cadence.DAILY else 2)
            if course.placed >= course.planned:
                self.end_course(course)

        # 2. The gaps: first visits, singles and new courses.
        for w_lo, w_hi in windows:
            cursor = w_lo
            while cursor < w_hi:
                clash = next((p for p in placed if p[0] <= cursor < p[1]), None)
                if clash is not None:
                    cursor = _round_up(clash[1])
                    continue
                if rng.random() > fill:
                    cursor += STEP * rng.choice((1, 2))
                    continue
                next_start = min((p[0] for p in placed if p[0] > cursor), default=None)
                room_limit = next_start if next_start is not None else w_hi + datetime.timedelta(hours=1)
                longest = min(w_hi - cursor, room_limit - cursor - datetime.timedelta(minutes=15))
                choice = self.choose(today_clients, masseur, day, cursor, longest)
                if choice is None:
                    cursor += STEP
                    continue
                client_index, type_code, starts_course, is_new = choice
                _massage_type, duration, block = lengths(type_code)
                room = room_for(cursor, cursor + block) if fits(cursor, cursor + block, cursor + duration) else None
                if room is None:
                    cursor += STEP
                    continue
                if is_new:
                    self.next_new += 1
                    self.new_quota -= 1
                course = self.start_course(client_index, type_code, masseur, day, cursor) if starts_course else None
                place(client_index, type_code, cursor, room, course)
                if course is not None:
                    course.placed += 1
                cursor = _round_up(cursor + block)

    def choose(self, today, masseur, day, at, longest):
        """(client index, massage type code, starts a course?, a first visit?) for a free stretch, or None.
        Changes nothing but a refused client's record: placing the session commits the choice."""
        rng, types = self.rng, self.world.types

        def fits(code):
            return code in masseur.qualified and datetime.timedelta(minutes=types[code].duration_minutes) <= longest

        if self.new_quota >= 1 and rng.random() < 0.7:
            index = self.peek_new()
            if index is not None and index not in today:
                code = "children-back" if self.clients[index].minor else "general"
                if fits(code):
                    return index, code, False, True
        if rng.random() < 0.03 and fits("children-back"):
            index = self.pick_returning(today, minor=True)
            if index is not None:
                return index, "children-back", rng.random() < 0.3, False
        index = self.pick_returning(today)
        if index is None:
            return None
        client = self.clients[index]
        if at < self.world.now and rng.random() < 0.0015:
            # Screened at the desk, an absolute contraindication found: no massage, now or later.
            client.blocked = True
            self.screen(client, at - datetime.timedelta(minutes=20), client.profile + (rng.choice(ABSOLUTE),))
            return None
        if rng.random() < 0.085:
            codes = [c for c in COURSE_TYPES if fits(c)]
            if codes:
                return index, rng.choices(codes, [COURSE_TYPES[c] for c in codes])[0], True, False
        codes = [c for c in SINGLE_TYPES if fits(c)]
        if not codes:
            return None
        return index, rng.choices(codes, [SINGLE_TYPES[c] for c in codes])[0], False, False

    def start_course(self, client_index, type_code, masseur, day, at) -> CoursePlan:
        rng = self.rng
        client = self.clients[client_index]
        cadence = Course.Cadence.DAILY if rng.random() < 0.6 else Course.Cadence.EVERY_OTHER_DAY
        planned = rng.choice([5, 6] if type_code == "lumbar" and rng.random() < 0.3 else [8, 10, 10, 10])
        created = min(at - datetime.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 8)), self.world.now)
        course = CoursePlan(
            pk=self._id("course"),
            client=client_index,
            type_code=type_code,
            masseur=masseur,
            cadence=cadence,
            planned=planned,
            preferred=at.astimezone(KYIV).time(),
            next_day=day + datetime.timedelta(days=1 if cadence == Course.Cadence.DAILY else 2),
            created_at=created,
        )
        if type_code == "therapeutic-back":
            issued = created.astimezone(KYIV).date() - datetime.timedelta(days=2)
            course.referral_until = issued + datetime.timedelta(days=45)
            self.clearance(
                client,
                kind=Clearance.Kind.REFERRAL,
                issued_on=issued,
                valid_until=course.referral_until,
                covers=(None, "therapeutic-back"),
                created_at=created,
            )
        client.in_course = True
        self.courses.append(course)
        self.active_courses.append(course)
        return course

    def book(self, client_index, massage_type, masseur, room, lo, end, hi, day, course) -> int:
        rng, now = self.rng, self.world.now
        client = self.clients[client_index]
        pk = self._id("appointment")
        roll = rng.random()
        changeable = course is None and not client.regular
        if lo < now:
            status = Appointment.Status.COMPLETED
            if now < end:
                status = Appointment.Status.CHECKED_IN
            elif roll < 0.03 and changeable:
                status = Appointment.Status.NO_SHOW
            elif roll < 0.07 and changeable:
                status = Appointment.Status.CANCELLED
        else:
            status = Appointment.Status.BOOKED
            if roll < 0.025 and changeable:
                status = Appointment.Status.CANCELLED
            elif (day - self.world.today).days <= 2 and roll < 0.6:
                status = Appointment.Status.CONFIRMED
        if course is not None:
            booked_at = course.created_at
        else:
            booked_at = lo - datetime.timedelta(hours=rng.randint(2, 14 * 24))
            if booked_at >= now:
                booked_at = now - datetime.timedelta(minutes=rng.randint(5, 600))
        if not client.visited:
            client.visited = True
            client.first_visit = booked_at
            (self.returning_minors if client.minor else self.returning).append(client_index)
        if status not in Appointment.NOT_LIVE:
            self.ensure_screened(client, day, lo, booked_at)
        cancelled_at = None
        if status == Appointment.Status.CANCELLED:
            cancelled_at = min(booked_at + (lo - booked_at) * rng.uniform(0.3, 0.9), now)
        self.plan.appointments.append(
            {
                "id": pk,
                "course_id": course.pk if course else None,
                "client_id": client.pk,
                "massage_type_id": massage_type.pk,
                "masseur_id": masseur.pk,
                "room_id": room,
                "starts_at": lo,
                "ends_at": end,
                "blocks_until": hi,
                "status": status,
                "booked_by_id": self.world.reception_id,
                "booked_at": booked_at,
                "cancellation_reason": rng.choice(CANCEL_REASONS) if cancelled_at else "",
                "cancelled_by_id": self.world.reception_id if cancelled_at else None,
                "cancelled_at": cancelled_at,
                "override_reason": "",
                "override_by_id": None,
                "request_key": None,
                # The planner's own notes, left behind when writing.
                "_type": massage_type.code,
                "_masseur_user": masseur.user_id,
                "_day": day,
            }
        )
        if course is not None:
            course.sessions.append(len(self.plan.appointments) - 1)
        return pk

    # --- after the days ---------------------------------------------------------------------------

    def finish_courses(self) -> None:
        now = self.world.now
        for course in self.courses:
            rows = [self.plan.appointments[i] for i in course.sessions]
            completed = sum(1 for r in rows if r["status"] == Appointment.Status.COMPLETED)
            ended = course.done and rows and rows[-1]["starts_at"] < now
            planned = course.planned
            if ended and len(rows) < course.planned:
                # Cut short (the masseur away, no time found): the plan shrank to what took place.
                planned = max(len(rows), 1)
            if completed >= planned:
                status = Course.Status.COMPLETED
            elif any(r["starts_at"] < now for r in rows):
                status = Course.Status.ACTIVE
            else:
                status = Course.Status.PLANNED
            self.clients[course.client].in_course = False
            self.plan.courses.append(
                {
                    "id": course.pk,
                    "client_id": self.clients[course.client].pk,
                    "massage_type_id": self.world.types[course.type_code].pk,
                    "indication": INDICATIONS[course.type_code],
                    "planned_sessions": planned,
                    "cadence": course.cadence,
                    "weekdays": [],
                    "preferred_masseur_id": course.masseur.pk,
                    "preferred_time": course.preferred,
                    "status": status,
                    "created_by_id": self.world.reception_id,
                    "created_at": course.created_at,
                    "request_key": None,
                }
            )
        self.plan.courses.sort(key=lambda row: row["id"])
        # Clients who never came registered lately; the others a little before their first booking.
        for state, row in zip(self.clients, self.plan.clients, strict=True):
            created = state.first_visit - datetime.timedelta(hours=1) if state.first_visit else None
            if created is None:
                created = now - datetime.timedelta(days=self.rng.randint(1, 30))
            row["created_at"] = row["updated_at"] = row["data_consent_at"] = created
            if state.minor:
                row["guardian_consent_at"] = created

    def add_later_findings(self) -> None:
        """A few clients with upcoming sessions were screened again lately: a new relative finding (the
        flag scan raises it), or an absolute one (their upcoming sessions are on hold, flagged)."""
        now, rng = self.world.now, self.rng
        upcoming = defaultdict(list)
        for row in self.plan.appointments:
            if row["starts_at"] > now and row["status"] in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED):
                upcoming[row["client_id"]].append(row)
        regular_pks = {self.clients[r.client].pk for r in self.regulars}
        client_ids = sorted(set(upcoming) - regular_pks)
        if not client_ids:
            return
        rng.shuffle(client_ids)
        relative = client_ids[: max(1, len(client_ids) * 3 // 100)]
        absolute = client_ids[len(relative) : len(relative) + max(1, len(client_ids) // 300)]
        for pk in relative + absolute:
            client = self.clients[pk - 1]
            taken = now - datetime.timedelta(minutes=rng.randint(20, 18 * 60))
            if client.last_screened_at is not None and taken <= client.last_screened_at:
                continue
            if pk in absolute:
                added = rng.choice(ABSOLUTE)
            else:
                choices = [c for c in ADDED_LATER if c not in client.profile]
                added = rng.choice(choices)
            screening = self.screen(client, taken, client.profile + (added,))
            if pk not in absolute:
                continue
            client.blocked = True
            name = self.world.catalogue[added].name_uk
            for row in upcoming[pk]:
                row["status"] = Appointment.Status.ON_HOLD
                self.plan.flags.append(
                    {
                        "id": self._id("flag"),
                        "appointment_id": row["id"],
                        "kind": Flag.Kind.ADDED,
                        "severity": Flag.Severity.CRITICAL,
                        "what_changed": f"Нове у скринінгу: {name}.",
                        "change_key": f"added:{added}@{screening}",
                        "raised_at": taken + datetime.timedelta(minutes=5),
                        "acknowledged_by_id": None,
                        "acknowledged_at": None,
                    }
                )

    def write_logs(self) -> None:
        """Signed logs (with the day-of check) for the most recent completed sessions, and for every session
        of the regulars, so that the history page shows its heaviest case."""
        rng = self.rng
        regular_pks = {self.clients[r.client].pk for r in self.regulars}
        completed = [r for r in self.plan.appointments if r["status"] == Appointment.Status.COMPLETED]
        chosen = [r for r in completed if r["client_id"] in regular_pks]
        rest = [r for r in reversed(completed) if r["client_id"] not in regular_pks]
        chosen += rest[: max(0, self.sizes.logs - len(chosen))]
        chosen.sort(key=lambda r: r["id"])
        number_in_course: dict[int, int] = defaultdict(int)
        for row in chosen:
            client = self.clients[row["client_id"] - 1]
            number_in_course[row["course_id"]] += 1
            number = number_in_course[row["course_id"]] if row["course_id"] else 1
            before = min(10, max(1, 7 - (number - 1) + rng.choice((-1, 0, 0))))
            after = max(0, before - rng.choice((2, 2, 3)))
            avoid = list(UNIVERSAL_AVOID)
            products = [p for p in PRODUCTS if not any(a in p for a in client.allergens)]
            signed_at = row["ends_at"] + datetime.timedelta(minutes=10)
            self.plan.logs.append(
                {
                    "id": self._id("log"),
                    "appointment_id": row["id"],
                    "techniques": ["stroking", "rubbing", "kneading", "percussion-vibration", "stroking"],
                    "areas_worked": [a for a in AREAS_BY_TYPE.get(row["_type"], BACK_AREAS) if a not in avoid],
                    "areas_avoided": avoid,
                    "direction": "neck-down" if "high-blood-pressure" in client.profile else "bottom-up",
                    "pressure": rng.choice(["light", "medium", "medium", "deep"]),
                    "pain_before": before,
                    "pain_after": after,
                    "products": [rng.choice(products)],
                    "duration_minutes": self.world.types[row["_type"]].duration_minutes,
                    "subjective": rng.choice(NOTES["subjective"]),
                    "objective": rng.choice(NOTES["objective"]),
                    "assessment": rng.choice(NOTES["assessment"]),
                    "plan": rng.choice(NOTES["plan"]),
                    "status": SessionLog.Status.SIGNED,
                    "created_by_id": row["_masseur_user"],
                    "created_at": row["ends_at"],
                    "updated_at": signed_at,
                    "signed_by_id": row["_masseur_user"],
                    "signed_at": signed_at,
                }
            )
            self.plan.checks.append(
                {
                    "id": self._id("check"),
                    "appointment_id": row["id"],
                    "answers": {
                        "fever": False,
                        "intoxication": False,
                        "menstruation": False if client.adult_female else None,
                        "acute_pain": False,
                    },
                    "checked_by_id": row["_masseur_user"],
                    "checked_at": row["starts_at"] - datetime.timedelta(minutes=5),
                    "outcome": DayOfCheck.Outcome.OK,
                    "hold_reason": "",
                    "confirmed_screening_id": None,
                }
            )

    def write_reminders(self) -> None:
        """As planning and the dispatcher left them: sent (or skipped) before now, due after; none for
        tomorrow's appointments (the benchmark plans and sends that day's batch)."""
        now, rng = self.world.now, self.rng
        left_to_the_bench = {self.world.today + datetime.timedelta(days=1)}
        Kind, State = Reminder.Kind, Reminder.State

        def add(*, key, kind, client, appointment_id, course_id, due_at, state, reason="", sent_at=None):
            self.plan.reminders.append(
                {
                    "id": self._id("reminder"),
                    "client_id": client.pk,
                    "appointment_id": appointment_id,
                    "course_id": course_id,
                    "kind": kind,
                    "key": key,
                    "due_at": due_at,
                    "state": state,
                    "claimed_at": None,
                    "attempts": 1 if state == State.SENT else 0,
                    "retry_at": None,
                    "sent_at": sent_at,
                    "reason": reason,
                    "created_at": min(due_at, now),
                }
            )

        def outcome(client, due_at):
            if due_at > now:
                return State.DUE, "", None
            if not client.consent:
                return State.SKIPPED, "no reminder consent", None
            if not client.has_email:
                return State.SKIPPED, "no email address", None
            return State.SENT, "", due_at + datetime.timedelta(seconds=rng.randint(5, 90))

        for course in self.plan.courses:
            client = self.clients[course["client_id"] - 1]
            state, reason, sent_at = outcome(client, course["created_at"])
            add(
                key=planning.course_key(SimpleNamespace(pk=course["id"]), Kind.COURSE_BOOKED),
                kind=Kind.COURSE_BOOKED,
                client=client,
                appointment_id=None,
                course_id=course["id"],
                due_at=course["created_at"],
                state=state,
                reason=reason,
                sent_at=sent_at,
            )
        # The invitation to the next course goes with the last live session's reminder.
        last_live = {}
        for row in self.plan.appointments:
            if row["course_id"] and row["status"] not in Appointment.NOT_LIVE:
                last_live[row["course_id"]] = row
        for course_id, row in sorted(last_live.items()):
            if row["_day"] in left_to_the_bench or row["status"] == Appointment.Status.ON_HOLD:
                continue
            client = self.clients[row["client_id"] - 1]
            due_at = planning.appointment_due_at(row["starts_at"], offset_hours=24)
            state, reason, sent_at = outcome(client, due_at)
            add(
                key=planning.course_ending_key(
                    SimpleNamespace(pk=course_id), SimpleNamespace(pk=row["id"], starts_at=row["starts_at"])
                ),
                kind=Kind.COURSE_ENDING,
                client=client,
                appointment_id=row["id"],
                course_id=course_id,
                due_at=due_at,
                state=state,
                reason=reason,
                sent_at=sent_at,
            )
        for row in self.plan.appointments:
            if row["_day"] in left_to_the_bench or row["status"] == Appointment.Status.ON_HOLD:
                continue
            client = self.clients[row["client_id"] - 1]
            appointment = SimpleNamespace(pk=row["id"], starts_at=row["starts_at"])
            due_at = planning.appointment_due_at(row["starts_at"], offset_hours=24)
            if row["status"] == Appointment.Status.CANCELLED:
                state, reason, sent_at = State.VOID, "appointment cancelled", None
            elif row["booked_at"] > due_at:
                state, reason, sent_at = State.SKIPPED, "booked after the reminder time", None
            else:
                state, reason, sent_at = outcome(client, due_at)
            add(
                key=planning.appointment_key(appointment, Kind.APPOINTMENT),
                kind=Kind.APPOINTMENT,
                client=client,
                appointment_id=row["id"],
                course_id=row["course_id"],
                due_at=due_at,
                state=state,
                reason=reason,
                sent_at=sent_at,
            )
            if row["status"] == Appointment.Status.CANCELLED and row["starts_at"] > row["cancelled_at"]:
                state, reason, sent_at = outcome(client, row["cancelled_at"])
                add(
                    key=planning.appointment_key(appointment, Kind.CANCELLED),
                    kind=Kind.CANCELLED,
                    client=client,
                    appointment_id=row["id"],
                    course_id=row["course_id"],
                    due_at=row["cancelled_at"],
                    state=state,
                    reason=reason,
                    sent_at=sent_at,
                )


# --- writing --------------------------------------------------------------------------------------

# Table by table, parents first; the appointments' own notes (keys starting with "_") stay behind.
WRITE_ORDER = [
    ("clients", Client),
    ("screenings", Screening),
    ("findings", Finding),
    ("clearances", Clearance),
    ("courses", Course),
    ("appointments", Appointment),
    ("logs", SessionLog),
    ("checks", DayOfCheck),
    ("reminders", Reminder),
    ("flags", Flag),
]


def _clean(rows):
    for row in rows:
        yield {k: v for k, v in row.items() if not k.startswith("_")}


def _history_context() -> None:
    """Name the bulk load in the change history, and say that no trigger is to be skipped.

    Both settings for this transaction only. Without them, pghistory's and pgtrigger's trigger functions
    find each setting missing by catching an error: an aborted subtransaction per row and trigger, and
    PostgreSQL scans the transaction's pending trigger events at every such abort, so a COPY of n rows
    costs O(n^2) (bench/FINDINGS.md: 9,000 appointments 1.3 ms a row, 0.28 ms with the settings). The
    triggers still fire and write every event."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', '{}', true), set_config('pghistory.context_id', %s, true),"
            " set_config('pghistory.context_metadata', %s, true)",
            [str(_key("history-context")), json.dumps({"source": "bench.generate"})],
        )


def write(plan: Plan) -> dict[str, dict]:
    """COPY table by table, each in its own transaction (foreign keys checked at its commit); returns rows
    and seconds per table, the commit included."""
    timings = {}
    for name, model in WRITE_ORDER:
        rows = getattr(plan, name)
        started = time.perf_counter()
        with transaction.atomic():
            _history_context()
            count, copy_seconds = copy_rows(model, _clean(rows))
            reset_sequence(model)
        timings[name] = {
            "rows": count,
            "seconds": round(time.perf_counter() - started, 2),
            "copy_seconds": round(copy_seconds, 2),
        }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["analyze"] = {"rows": 0, "seconds": round(time.perf_counter() - started, 2)}
    return timings


@dataclass
class Report:
    sizes: Sizes
    seed: int
    now: datetime.datetime
    plan_seconds: float
    write: dict[str, dict]
    counts: dict[str, int]
    regular_ids: list[int]
    total_seconds: float = 0.0
    trigger_cost: dict = field(default_factory=dict)


def generate(
    *,
    scale: float,
    seed: int = 15,
    days_back: int = 700,
    days_ahead: int = 30,
    now: datetime.datetime | None = None,
    progress=None,
) -> Report:
    """Create the whole world in the current (empty, migrated) database."""
    started = time.perf_counter()
    now = now or timezone.now()
    sizes = sizes_for(scale, days_back=days_back, days_ahead=days_ahead)
    rng = random.Random(seed)
    say = progress or (lambda message: None)
    say(f"resources: {sizes.masseurs} masseurs, {sizes.rooms} rooms")
    with transaction.atomic():
        world = create_resources(sizes, rng=rng, now=now)
    say(f"planning {sizes.days_back + sizes.days_ahead + 1} days for {sizes.clients} clients")
    plan_started = time.perf_counter()
    plan = build_plan(sizes, world, seed)
    plan_seconds = time.perf_counter() - plan_started
    say(f"planned {len(plan.appointments)} appointments in {plan_seconds:.1f} s; writing with COPY")
    timings = write(plan)
    counts = {name: len(getattr(plan, name)) for name, _model in WRITE_ORDER}
    return Report(
        sizes=sizes,
        seed=seed,
        now=now,
        plan_seconds=round(plan_seconds, 2),
        write=timings,
        counts=counts,
        regular_ids=plan.regular_ids,
        total_seconds=round(time.perf_counter() - started, 2),
    )


def build_plan(sizes: Sizes, world: World, seed: int) -> Plan:
    """The whole plan in memory; the same inputs give the same plan."""
    return Planner(sizes, world, seed).run()
