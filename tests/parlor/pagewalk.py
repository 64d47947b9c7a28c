"""Every route of the URLconf filled with real ids, and the forms each page shows (no tests
here): the fuzz and header tests walk the whole site with it, so a new page is covered, or the
walk fails naming the route it cannot fill."""

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor import roles
from parlor.resources import RESOURCES
from screening.models import Clearance, Contraindication
from sessions.flags.services import flags_raise_for
from sessions.models import CallRequest, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.online import signin, visitor
from sessions.reminders import links
from sessions.waitlist import links as offer_links
from tests.conftest import _logged_in
from tests.factories import UserFactory
from tests.sessions.test_masseur_support import TODAY, make_day

# The Django admin is Django's own code and forms; the fuzz covers the admin's search through the
# middleware test instead (tests/parlor/test_bad_input.py).
SKIPPED_NAMESPACES = ("admin",)


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    kwargs: tuple[str, ...]  # the names the pattern takes


def every_route() -> list[Route]:
    """Every named route of the project, admin aside, with the keyword arguments it takes."""
    found: dict[str, Route] = {}

    def walk(patterns, namespace: str, kwargs: tuple[str, ...]):
        for entry in patterns:
            converters = tuple(getattr(entry.pattern, "converters", {}) or ())
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace
                walk(entry.url_patterns, inner or namespace, kwargs + converters)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                if name.split(":")[0] in SKIPPED_NAMESPACES:
                    continue
                route = Route(name, kwargs + converters)
                # One name, several patterns (calendar-day with and without a day): the fuller one.
                if name not in found or len(route.kwargs) > len(found[name].kwargs):
                    found[name] = route

    walk(get_resolver().url_patterns, "", ())
    return sorted(found.values(), key=lambda r: r.name)


@dataclass
class Site:
    """One of everything a page can show: a masseur's day with a course, two screenings, a flag,
    a clearance with a scan, and a user of every role."""

    day: object
    clearance: Clearance
    flag: object
    manager: object
    receptionist: object
    contraindication: Contraindication
    closed_day: object = None  # parlor.ClosedDay
    time_off: object = None  # parlor.TimeOff of the day's masseur, a month ahead
    # Online booking (issue 14): a waiting-list offer to the day's client and a call for the front desk.
    offer: object = None
    call: object = None
    clients: dict = field(default_factory=dict)

    def client_for(self, role: str) -> Client:
        if role not in self.clients:
            if role == "anonymous":
                self.clients[role] = Client()
            elif role == "client":
                # The day's client signed in on the public booking pages (their own pages).
                self.clients[role] = Client()
                session = self.clients[role].session
                session[visitor._KEY] = {
                    "email": self.day.client.email,
                    "client": self.day.client.pk,
                    "at": int(timezone.now().timestamp()),
                }
                session.save()
            elif role == "pending":
                # Password given, second factor not yet: the code page.
                user = UserFactory(username="walk-pending", role=roles.RECEPTIONIST)
                TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
                self.clients[role] = Client()
                self.clients[role].force_login(user)
            else:
                user = {"manager": self.manager, "reception": self.receptionist, "masseur": self.day.user}[role]
                self.clients[role] = _logged_in(user)
        return self.clients[role]


def build_site() -> Site:
    from django.core.files.uploadedfile import SimpleUploadedFile

    day = make_day()
    manager = UserFactory(username="walk-manager", role=roles.MANAGER)
    manager.is_staff = True
    manager.save()
    clearance = Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.REFERRAL,
        doctor_name="Д-р Гнатюк",
        issued_on=TODAY - datetime.timedelta(days=3),
        valid_until=TODAY + datetime.timedelta(days=30),
        covers_massage_type=day.massage_type,
        scan=SimpleUploadedFile("referral.pdf", b"%PDF-1.4 walk"),
    )
    flags = flags_raise_for(appointment=day.appointment)
    from parlor.models import ClosedDay, TimeOff

    closed_day = ClosedDay.objects.create(day=TODAY + datetime.timedelta(days=40), reason="inventory")
    time_off = TimeOff.objects.create(
        masseur=day.masseur,
        starts_at=day.appointment.starts_at + datetime.timedelta(days=30),
        ends_at=day.appointment.starts_at + datetime.timedelta(days=31),
    )
    offer, call = _online(day)
    return Site(
        day=day,
        clearance=clearance,
        flag=flags[0],
        manager=manager,
        receptionist=UserFactory(username="walk-desk", role=roles.RECEPTIONIST),
        contraindication=Contraindication.objects.order_by("pk").first(),
        closed_day=closed_day,
        time_off=time_off,
        offer=offer,
        call=call,
    )


def _online(day):
    """The day's client waiting for an evening, offered one, and a call the front desk has to make."""
    entry = WaitlistEntry.objects.create(client=day.client, massage_type=day.massage_type, until=TODAY)
    starts_at = day.appointment.starts_at + datetime.timedelta(hours=5)
    slot = WaitlistSlot.objects.create(
        massage_type=day.massage_type,
        masseur=day.masseur,
        room=day.room,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=40),
        blocks_until=starts_at + datetime.timedelta(minutes=55),
    )
    offer = WaitlistOffer.objects.create(entry=entry, slot=slot, expires_at=starts_at - datetime.timedelta(hours=1))
    call = CallRequest.objects.create(
        client=day.client,
        reason=CallRequest.Reason.SCREENING_BLOCKS,
        massage_type=day.massage_type,
        wanted_at=day.appointment.starts_at,
    )
    return offer, call


def _pk_for(name: str, site: Site) -> int:
    day = site.day
    by_prefix = {
        "clients:client-": day.client.pk,
        "sessions:client-history": day.client.pk,
        "sessions:appointment-": day.appointment.pk,
        "sessions:sessionlog-edit": day.appointment.pk,
        "sessions:course-": day.course.pk,
        "sessions:flag-acknowledge": site.flag.pk,
        "sessions:time-off-reassign": site.time_off.pk,
        "sessions:client-screening-link": day.client.pk,
        "parlor:closed-day-": site.closed_day.pk,
        "online:my-": day.appointment.pk,
        "online:call-done": site.call.pk,
        "online:waitlist-leave": site.offer.entry_id,
        "sessions:waitlist-": site.offer.entry_id,
        "screening:screening-detail": day.first_screening.pk,
        "screening:clearance-scan": site.clearance.pk,
        "screening:contraindication-edit": site.contraindication.pk,
    }
    for prefix, pk in by_prefix.items():
        if name.startswith(prefix):
            return pk
    raise LookupError(f"tests/parlor/pagewalk.py does not know which object {name}'s pk is: add it")


def urls_for(route: Route, site: Site) -> list[str]:
    """The route filled with real values; a resource route once per kind of resource."""
    day = site.day
    if route.name.startswith("parlor:resource-"):
        urls = []
        for slug, resource in RESOURCES.items():
            kwargs = {"slug": slug}
            if "pk" in route.kwargs:
                kwargs["pk"] = resource.model.objects.order_by("pk").values_list("pk", flat=True).first()
                if kwargs["pk"] is None:
                    continue
            urls.append(reverse(route.name, kwargs=kwargs))
        return urls
    kwargs = {}
    for name in route.kwargs:
        if name in ("pk",):
            kwargs[name] = _pk_for(route.name, site)
        elif name == "client_pk":
            kwargs[name] = day.client.pk
        elif name == "day":
            kwargs[name] = TODAY.isoformat()
        elif name == "user_pk":
            kwargs[name] = site.receptionist.pk
        elif name == "uidb64":
            kwargs[name] = urlsafe_base64_encode(force_bytes(site.receptionist.pk))
        elif name == "token" and route.name == "online:sign-in-link":
            row = signin.sign_in_request(email=day.client.email, address="10.0.0.1", language="uk")
            kwargs[name] = signin.link_token(nonce=row.nonce, email=day.client.email, choice=None)
        elif name == "token" and route.name == "online:offer":
            kwargs[name] = offer_links.offer_token(site.offer)
        elif name == "token" and route.name == "parlor:password-reset-confirm":
            kwargs[name] = default_token_generator.make_token(site.receptionist)
        elif name == "token" and route.name.startswith("sessions:link-screening"):
            kwargs[name] = links.screening_token(day.client)
        elif name == "token" and route.name.startswith("sessions:link-"):
            purpose = links.CONFIRM if route.name.endswith("confirm") else links.CANCEL
            kwargs[name] = links.appointment_token(day.appointment, purpose)
        else:
            raise LookupError(f"tests/parlor/pagewalk.py cannot fill <{name}> of {route.name}: add it")
    return [reverse(route.name, kwargs=kwargs)]


ROLES = ("manager", "masseur", "reception", "pending", "anonymous", "client")
# A password-reset link moves its token into the session and redirects to this page.
_FOLLOWED = "/set-password/"


def first_open(site: Site, url: str) -> tuple[str, object, str] | None:
    """The first role (manager first) to whom the page answers 200 on GET: the role, the
    response and the page's URL."""
    for role in ROLES:
        response = site.client_for(role).get(url)
        if response.status_code == 302 and response["Location"].endswith(_FOLLOWED):
            url = response["Location"]
            response = site.client_for(role).get(url)
        if response.status_code == 200:
            return role, response, url
    return None


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, list[str]]  # name -> the values the page offers (options, a value)
    files: tuple[str, ...] = ()


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = Form((attrs.get("method") or "get").lower(), attrs.get("action") or "", {})
            self.forms.append(self._current)
            return
        if self._current is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset") and name == "language":
                return
            if kind == "file":
                self._current.files += (name,)
                return
            self._current.fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea" and name:
            self._current.fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
            self._current.fields.setdefault(name, [])
        elif tag == "option" and self._select:
            self._current.fields[self._select].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._current = None


def forms_on(page_url: str, html: str) -> list[Form]:
    """The page's forms, the language switcher and log-out aside, actions made absolute."""
    parser = _FormParser()
    parser.feed(html)
    found = []
    for form in parser.forms:
        action = form.action or page_url
        if action.startswith("?"):
            action = urlsplit(page_url).path + action
        path = urlsplit(action).path
        if path in (reverse("set_language"), reverse("logout")):
            continue
        form.fields.pop("csrfmiddlewaretoken", None)
        form.action = action
        found.append(form)
    return found
