"""One language per page: every page of the URLconf, rendered in Ukrainian and in English, shows no word of
the other language. Names (clients, staff, rooms, doctors) are allowed; a Latin word on a Ukrainian page
is allowed only where the Ukrainian catalogue itself writes it (PDF, JPEG).

The URLconf is walked, not listed: a new page fails here until FILL below says how to open it (or
SKIP why it is not a page)."""

import datetime
import html.parser
import re
import uuid
from functools import cache
from pathlib import Path

import polib
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clients.models import Client
from parlor import roles
from parlor.models import MassageType, Masseur, Room, TimeOff
from parlor.resources import RESOURCES
from screening import services as screening_services
from screening.models import Clearance, Contraindication
from sessions.care.logs import LogInput, sessionlog_save
from sessions.models import Appointment, Course, Reminder, SessionLog, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.online import signin
from sessions.reminders import links, planning
from sessions.waitlist import links as offer_links
from tests.conftest import login_as
from tests.factories import (
    ClientFactory,
    MasseurFactory,
    RoomFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
KYIV = datetime.timezone(datetime.timedelta(hours=2))
# A Wednesday; the world below is built around it. Before the real "now", so logins stay valid.
NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=KYIV)
TODAY = NOW.date()

# Not pages: actions behind a POST, files, the admin (Django's own), the health check, logging out.
SKIP = {
    "admin",
    "healthz",
    "logout",
    "set_language",
    "screening:clearance-scan",
    "sessions:appointment-no-show",
    "sessions:course-cancel-rest",
    "sessions:course-shorten",
    "sessions:flag-acknowledge",
    "clients:client-export",  # a ZIP download, not a page
    "sessions:appointment-release",  # POST only
    "parlor:recovery-codes",  # POST only
    "parlor:two-factor-remove",  # POST only
    "parlor:password-reset-confirm",  # moves its token to the session and redirects
    "clients:client-withdraw-consent",  # POST only
    "parlor:closed-day-delete",  # POST only
    "sessions:client-screening-link",  # POST only
    "",  # media files in development
    # Online booking (issue 14): actions behind a POST, and a calendar file.
    "online:sign-out",
    "online:my-cancel",
    "online:my-calendar",
    "online:waitlist-leave",
    "online:call-done",
    "sessions:waitlist-cancel",
    "sessions:waitlist-priority",
}

CYRILLIC_WORD = re.compile(r"[А-Яа-яІіЇїЄєҐґ'’]*[А-Яа-яІіЇїЄєҐґ]{2,}[А-Яа-яІіЇїЄєҐґ'’]*")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Text people typed or machines read, not the page's own words.
DATA_TAGS = {"script", "style", "textarea", "code"}
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class VisibleText(html.parser.HTMLParser):
    """Text nodes and the attributes people read, outside data and outside elements that declare a language
    of their own (the language switcher's "UK / EN")."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _tag, hidden in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = tag in DATA_TAGS or ("lang" in attrs and tag != "html")
        if tag not in {"input", "br", "hr", "img", "meta", "link", "circle", "line", "polyline", "rect"}:
            self._stack.append((tag, hidden))
        if self._hidden() or hidden:
            return
        self.texts.extend(attrs[name] for name in READ_ATTRIBUTES if attrs.get(name))
        if tag == "input" and attrs.get("type") in {"submit", "button"} and attrs.get("value"):
            self.texts.append(attrs["value"])

    def handle_endtag(self, tag):
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data):
        if data.strip() and not self._hidden():
            self.texts.append(data.strip())


@cache
def catalogue_latin_words() -> frozenset[str]:
    """Latin words the Ukrainian catalogue itself uses (PDF, JPEG, PNG)."""
    po = polib.pofile(str(ROOT / "locale" / "uk" / "LC_MESSAGES" / "django.po"))
    texts = [e.msgstr for e in po] + [s for e in po for s in e.msgstr_plural.values()]
    # Placeholders are not words of the page: %(name)s, {name}.
    return frozenset(
        word.lower() for text in texts for word in LATIN_WORD.findall(re.sub(r"%\(\w+\)\w|\{\w+\}", "", text))
    )


def allowed_names() -> list[str]:
    """Every name the pages may show in either script, longest first (so "Олена Бойко" goes before "Олена")."""
    names = {"Parlor"}
    for client in Client.objects.all():
        names |= {client.full_name, client.email, str(client.phone), client.guardian_name}
    names |= set(Masseur.objects.values_list("display_name", flat=True))
    names |= set(Room.objects.values_list("name", flat=True))
    names |= set(Clearance.objects.values_list("doctor_name", flat=True))
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.all():
        names |= {user.username, user.get_full_name(), user.first_name, user.last_name}
    return sorted((n for n in names if n), key=len, reverse=True)


def foreign_words(page: str, language: str, names: list[str]) -> list[str]:
    """The texts of the page that hold a word of the other language, names taken out."""
    parser = VisibleText()
    parser.feed(page)
    found = []
    for text in parser.texts:
        bare = text
        for name in names:
            bare = bare.replace(name, " ")
        if language == "uk":
            words = [w for w in LATIN_WORD.findall(bare) if w.lower() not in catalogue_latin_words()]
        else:
            words = CYRILLIC_WORD.findall(bare)
        if words:
            found.append(f"{text!r} ({', '.join(words)})")
    return found


# --- the world every page is opened in ----------------------------------------------------------


def build_world() -> dict:
    manager = UserFactory(username="mgr", first_name="Ганна", last_name="Керівна", role=roles.MANAGER)
    manager.is_staff = True
    manager.save()
    reception = UserFactory(username="desk", first_name="Ірина", last_name="Рецепція", role=roles.RECEPTIONIST)
    masseur_user = UserFactory(username="hands", first_name="Олена", last_name="Бойко", role=roles.MASSEUR)
    classic = MassageType.objects.get(code="classic-back")
    masseur = MasseurFactory(user=masseur_user, display_name="Олена Бойко", qualifications=[classic])
    for weekday in range(7):
        WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(8), ends=datetime.time(20))
    room = RoomFactory(name="Кабінет 1")
    TimeOffFactory(
        masseur=masseur,
        starts_at=NOW + datetime.timedelta(days=30),
        ends_at=NOW + datetime.timedelta(days=32),
        reason="",
    )
    clients = {
        "uk": ClientFactory(full_name="Оксана Петрівна Коваленко", language="uk", allergens=["rose"]),
        "en": ClientFactory(full_name="Emily Clarke", language="en", email="emily@example.com"),
    }
    duplicate = ClientFactory(full_name="Оксана Коваленко", email="", phone="+380671112233")
    catalogue = {c.code: c for c in Contraindication.objects.all()}
    screenings = {}
    for language, client in clients.items():
        screenings[language] = screening_services.screening_record(
            client=client,
            answers={},
            findings=[
                screening_services.FindingInput(
                    contraindication=catalogue["product-allergy"], details={"allergens": ["rose", "jasmine"]}
                ),
                screening_services.FindingInput(contraindication=catalogue["skin-disease"]),
            ],
            taken_by=reception,
            submission_key=uuid.uuid4(),
            taken_at=NOW - datetime.timedelta(days=20),
        )
        screening_services.clearance_add(
            client=client,
            kind=Clearance.Kind.PERMISSION,
            doctor_name="Д-р Савченко",
            issued_on=TODAY - datetime.timedelta(days=19),
            valid_until=TODAY + datetime.timedelta(days=60),
            covers_contraindication=catalogue["skin-disease"],
            created_by=reception,
        )
    client = clients["uk"]
    course = CourseFactory(client=client, massage_type=classic, planned_sessions=5, status=Course.Status.ACTIVE)

    def session(days: int, hour: int, status=Appointment.Status.BOOKED, who=client, of=course):
        return AppointmentFactory(
            client=who,
            massage_type=classic,
            masseur=masseur,
            room=room,
            course=of,
            starts_at=datetime.datetime.combine(TODAY + datetime.timedelta(days=days), datetime.time(hour), KYIV),
            status=status,
            booked_by=reception,
        )

    for days in (-3, -2):
        done = session(days, 9, Appointment.Status.COMPLETED)
        SessionLog.objects.create(
            appointment=done,
            pain_before=7 + days,
            pain_after=4 + days,
            duration_minutes=40,
            status=SessionLog.Status.SIGNED,
            signed_by=masseur_user,
            signed_at=done.starts_at,
        )
    Course.objects.filter(pk=course.pk).update(created_at=NOW - datetime.timedelta(days=5))
    today = session(0, 12)
    checked_in = session(0, 14, Appointment.Status.CHECKED_IN, who=clients["en"], of=None)
    sessionlog_save(
        appointment=checked_in,
        data=LogInput(pain_before=5),
        by=masseur_user,
        log_id=None,
    )
    upcoming = session(2, 10)
    cancelled = session(3, 10)
    from sessions.reminders.client_actions import appointment_cancel_by_client

    appointment_cancel_by_client(appointment=cancelled)
    english_upcoming = session(4, 16, who=clients["en"], of=None)
    # Completed courses for the manager's outcomes.
    finished = CourseFactory(client=clients["en"], massage_type=classic, status=Course.Status.COMPLETED)
    done = session(-10, 15, Appointment.Status.COMPLETED, who=clients["en"], of=finished)
    SessionLog.objects.create(
        appointment=done,
        pain_before=6,
        pain_after=2,
        duration_minutes=40,
        status=SessionLog.Status.SIGNED,
        signed_by=masseur_user,
        signed_at=done.starts_at,
    )
    planning.plan_appointment(upcoming, now=NOW)
    Reminder.objects.create(
        client=client,
        appointment=upcoming,
        kind=Reminder.Kind.MOVED,
        key="moved:test",
        due_at=NOW,
        state=Reminder.State.VOID,
        reason=Reminder.Reason.APPOINTMENT_MOVED,
    )
    Reminder.objects.create(
        client=clients["en"],
        appointment=english_upcoming,
        kind=Reminder.Kind.APPOINTMENT,
        key="skipped:test",
        due_at=NOW,
        state=Reminder.State.SKIPPED,
        reason=Reminder.Reason.NO_CONSENT,
    )
    offers = _offers(clients, classic, masseur, room)
    return {
        "offers": offers,
        "users": {"manager": manager, "reception": reception, "masseur": masseur_user},
        "clients": clients,
        "client": client,
        "duplicate": duplicate,
        "screening": screenings["uk"],
        "course": course,
        "today": today,
        "checked_in": checked_in,
        "upcoming": upcoming,
        "cancelled": cancelled,
    }


def _offers(clients: dict, massage_type, masseur, room) -> dict:
    """A freed time offered to both clients (issue 14): the offer's page speaks each client's language."""
    starts_at = datetime.datetime.combine(TODAY + datetime.timedelta(days=8), datetime.time(9), KYIV)
    slot = WaitlistSlot.objects.create(
        massage_type=massage_type,
        masseur=masseur,
        room=room,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=40),
        blocks_until=starts_at + datetime.timedelta(minutes=55),
    )
    offers = {}
    for language, client in clients.items():
        entry = WaitlistEntry.objects.create(
            client=client, massage_type=massage_type, until=TODAY + datetime.timedelta(days=9)
        )
        offers[language] = WaitlistOffer.objects.create(
            entry=entry, slot=slot, expires_at=starts_at - datetime.timedelta(hours=2)
        )
    return offers


def fill(name: str, keys: list[str], world: dict, language: str) -> dict:
    """The keyword arguments that open the page `name` on the world; KeyError for a page nobody taught this."""
    client, course = world["client"], world["course"]
    by_pk = {
        "clients:client-detail": client,
        "clients:client-edit": client,
        "clients:client-merge": world["duplicate"],
        "screening:screening-detail": world["screening"],
        "screening:contraindication-edit": Contraindication.objects.get(code="skin-disease"),
        "sessions:appointment-detail": world["cancelled"],
        "sessions:appointment-move": world["upcoming"],
        "sessions:appointment-cancel": world["upcoming"],
        "sessions:course-detail": course,
        "sessions:course-extend": course,
        "sessions:appointment-review": world["today"],
        "sessions:appointment-checkin": world["today"],
        "sessions:sessionlog-edit": world["checked_in"],
        "sessions:client-history": client,
        "clients:client-erase": client,
        "clients:client-trail": client,
        "sessions:time-off-reassign": TimeOff.objects.order_by("pk").first(),
        "online:my-move": world["upcoming"],
    }
    if keys == ["pk"]:
        return {"pk": by_pk[name].pk}
    if keys == ["client_pk"]:
        return {"client_pk": client.pk}
    if keys == ["token"] and name == "online:sign-in-link":
        own = world["clients"][language]
        row = signin.sign_in_request(email=own.email, address="10.0.0.1", language=language)
        return {"token": signin.link_token(nonce=row.nonce, email=own.email, choice=None)}
    if keys == ["token"] and name == "online:offer":
        return {"token": offer_links.offer_token(world["offers"][language])}
    if keys == ["token"]:
        # The client's pages speak the client's language: the client of this language opens them.
        own = world["clients"][language]
        appointment = world["upcoming"] if language == "uk" else Appointment.objects.filter(client=own).last()
        if name in {"sessions:link-screening", "sessions:link-screening-thanks"}:
            return {"token": links.screening_token(own)}
        return {"token": links.appointment_token(appointment, name.removeprefix("sessions:link-"))}
    if keys == ["day"]:
        return {"day": TODAY.isoformat()}
    if keys == ["user_pk"]:
        return {"user_pk": get_user_model().objects.order_by("pk").values_list("pk", flat=True).first()}
    raise KeyError(name)


def pages(world: dict, language: str) -> list[str]:
    """Every page of the URLconf, opened on the world."""
    urls = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else namespace
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, inner or pattern.namespace or "")
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or "")
                if name in SKIP:
                    continue
                keys = sorted(getattr(pattern.pattern, "converters", {}))
                if name.startswith("parlor:resource-"):
                    for slug, resource in RESOURCES.items():
                        if keys == ["slug"]:
                            urls.append(reverse(name, kwargs={"slug": slug}))
                        else:
                            instance = resource.model.objects.order_by("pk").first()
                            urls.append(reverse(name, kwargs={"slug": slug, "pk": instance.pk}))
                    continue
                try:
                    urls.append(reverse(name, kwargs=fill(name, keys, world, language) if keys else {}))
                except KeyError:
                    pytest.fail(f"{name} ({pattern.pattern}) is a new page: teach fill() how to open it, or SKIP it")

    walk(get_resolver().url_patterns)
    return sorted(set(urls))


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield build_world()


def _opened(user, language: str, settings) -> HttpClient:
    settings.LANGUAGE_CODE = language
    client = HttpClient()
    if user is not None:
        login_as(client, user)
    return client


@pytest.mark.parametrize("language", ["uk", "en"])
def test_every_page_speaks_one_language(world, settings, language):
    web = _opened(world["users"]["manager"], language, settings)
    names = allowed_names()
    problems, refused = {}, []
    opened = 0
    with time_machine.travel(NOW, tick=False):
        for url in pages(world, language):
            response = web.get(url)
            assert response.status_code in (200, 302, 403), f"{url}: {response.status_code}"
            if response.status_code == 403:
                refused.append(url)
            if response.status_code == 302 or not response["Content-Type"].startswith("text/html"):
                continue
            opened += 1
            found = foreign_words(response.content.decode(), language, names)
            if found:
                problems[url] = found
    assert opened > 35
    # The manager has no masseur's profile: My day is a masseur's page (its own test below), and its
    # 403 page was checked like every other.
    assert refused == [reverse("sessions:my-day")]
    assert problems == {}


@pytest.mark.parametrize("language", ["uk", "en"])
@pytest.mark.parametrize(
    ("role", "urls"),
    [
        ("masseur", ["parlor:dashboard", "sessions:my-day"]),
        ("reception", ["parlor:dashboard", "sessions:calendar-day", "sessions:reminder-list", "clients:client-list"]),
        (None, ["login"]),
    ],
)
def test_pages_other_roles_see_speak_one_language(world, settings, language, role, urls):
    web = _opened(world["users"][role] if role else None, language, settings)
    names = allowed_names()
    with time_machine.travel(NOW, tick=False):
        extra = [reverse("sessions:appointment-review", args=[world["today"].pk])] if role == "masseur" else []
        for url in [reverse(name) for name in urls] + extra:
            response = web.get(url)
            assert response.status_code == 200, url
            assert foreign_words(response.content.decode(), language, names) == [], url


@pytest.mark.parametrize("language", ["uk", "en"])
def test_form_errors_speak_one_language(world, settings, language):
    web = _opened(world["users"]["manager"], language, settings)
    names = allowed_names()
    client = world["client"]
    posts = {
        reverse("clients:client-create"): {"phone": "12345", "full_name": "Я" * 201},
        reverse("parlor:resource-add", args=["massage-types"]): {"duration_minutes": "5", "price_uah": "x"},
        reverse("screening:clearance-create", args=[client.pk]): {"issued_on": "2030-01-01", "valid_until": "x"},
        reverse("sessions:appointment-cancel", args=[world["upcoming"].pk]): {"reason": " "},
    }
    with time_machine.travel(NOW, tick=False):
        for url, data in posts.items():
            response = web.post(url, data)
            assert response.status_code == 200, url
            assert response.context["form"].errors, url
            assert foreign_words(response.content.decode(), language, names) == [], url


def test_the_check_finds_english_on_a_ukrainian_page_and_ukrainian_on_an_english_one():
    names = ["Emily Clarke"]
    assert foreign_words("<p>Emily Clarke · Сьогодні</p>", "uk", names) == []
    assert foreign_words("<p>Cancelled by the client</p><p lang='en'>EN</p>", "uk", names) == [
        "'Cancelled by the client' (Cancelled, by, the, client)"
    ]
    assert foreign_words("<p title='Записи'>ok</p><textarea>Нотатки</textarea>", "en", names) == ["'Записи' (Записи)"]
    assert foreign_words("<p>PDF, JPEG або PNG</p>", "uk", names) == []


@pytest.mark.parametrize("language", ["uk", "en"])
def test_the_online_clients_own_pages_speak_one_language(world, settings, language):
    # Issue 14: the pages behind the online sign-in (no staff user opens them), with a time held.
    from django.utils import timezone

    from sessions.online import visitor

    own = world["clients"][language]
    web = _opened(None, language, settings)
    with time_machine.travel(NOW, tick=False):
        session = web.session
        session[visitor._KEY] = {"email": own.email, "client": own.pk, "at": int(timezone.now().timestamp())}
        session.save()
        upcoming = Appointment.objects.filter(client=own, status=Appointment.Status.BOOKED).order_by("starts_at").last()
        AppointmentFactory(
            client=own,
            massage_type=upcoming.massage_type,
            masseur=upcoming.masseur,
            room=upcoming.room,
            starts_at=upcoming.starts_at + datetime.timedelta(days=5),
            status=Appointment.Status.RESERVED,
            reserved_until=NOW + datetime.timedelta(minutes=10),
        )
        names = allowed_names()
        urls = [
            reverse("online:my"),
            reverse("online:my-move", args=[upcoming.pk]),
            reverse("online:reservation"),
            reverse("online:questionnaire"),
            reverse("online:call-back"),
            reverse("online:waitlist-join"),
        ]
        for url in urls:
            response = web.get(url)
            assert response.status_code == 200, url
            assert foreign_words(response.content.decode(), language, names) == [], url
        newcomer = _opened(None, language, settings)
        session = newcomer.session
        session[visitor._KEY] = {"email": "new@example.com", "client": None, "at": int(timezone.now().timestamp())}
        session.save()
        response = newcomer.get(reverse("online:profile"))
        assert response.status_code == 200
        assert foreign_words(response.content.decode(), language, ["new@example.com", *names]) == []
