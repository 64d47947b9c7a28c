"""Every URL of the project, for every role: the status it answers, and whether it shows client A's
health data to someone who must not see it (issue 11, need-to-know).

The walk reads the URLconf itself, so a page added later is requested too. Adding a page means
adding its line to EXPECTED (the status for each role on a GET) and, when its URL takes an
argument this file does not know, a line to _values; until then the test fails and names it.

Roles: anonymous; reception; the masseur client A is booked with ("masseur_booked", may see A's
health record); a masseur with no booking of A ("masseur_other", booked with client B only); the
manager. Client A's clinical texts are unique markers (tests/privacy_world.py): the anonymous
user, reception and masseur_other must never get a page that holds one (reception not B's
either), and whenever a page shows one to someone who may see it, the access trail gets an entry
for A from that very request.
"""

import datetime
import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import AccessEntry
from parlor.models import TimeOff
from screening.models import Contraindication
from sessions.models import CallRequest, WaitlistEntry, WaitlistOffer, WaitlistSlot
from sessions.online import signin
from sessions.reminders import links
from sessions.waitlist import links as offer_links
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.privacy_world import build_world

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reception", "masseur_booked", "masseur_other", "manager")
MAY_SEE_A = {"masseur_booked", "manager"}


def S(anonymous, reception, masseur_booked, masseur_other, manager):
    return dict(zip(ROLES, (anonymous, reception, masseur_booked, masseur_other, manager), strict=True))


LOGIN = 302  # the login page (the middleware, or the admin's own)
# The status of a GET, by URL name (or route, for unnamed patterns). 405: the page takes POST only.
EXPECTED = {
    "parlor:dashboard": S(LOGIN, 200, 200, 200, 200),
    "parlor:resource-list": S(LOGIN, 200, 200, 200, 200),
    "parlor:resource-add": S(LOGIN, 403, 403, 403, 200),
    "parlor:resource-edit": S(LOGIN, 403, 403, 403, 200),
    # A GET asks to confirm (issue 12); only its POST deletes.
    "parlor:resource-delete": S(LOGIN, 403, 403, 403, 200),
    # The manager's closed days (issue 12).
    "parlor:closed-days": S(LOGIN, 403, 403, 403, 200),
    "parlor:closed-day-delete": S(LOGIN, 405, 405, 405, 405),
    "clients:client-list": S(LOGIN, 200, 200, 200, 200),
    "clients:client-create": S(LOGIN, 200, 403, 403, 200),
    "clients:client-detail": S(LOGIN, 200, 200, 200, 200),
    "clients:client-edit": S(LOGIN, 200, 403, 403, 200),
    "clients:client-merge": S(LOGIN, 403, 403, 403, 200),
    "clients:client-export": S(LOGIN, 403, 403, 403, 200),
    "clients:client-withdraw-consent": S(LOGIN, 405, 405, 405, 405),
    "clients:client-erase": S(LOGIN, 403, 403, 403, 200),
    "clients:client-trail": S(LOGIN, 403, 403, 403, 200),
    "clients:user-trail": S(LOGIN, 403, 403, 403, 200),
    "screening:screening-list": S(LOGIN, 403, 200, 403, 200),
    # A masseur writes only the records of clients booked with them (issue 10).
    "screening:screening-create": S(LOGIN, 200, 200, 403, 200),
    "screening:clearance-list": S(LOGIN, 200, 200, 200, 200),
    "screening:clearance-create": S(LOGIN, 200, 200, 403, 200),
    "screening:clearance-scan": S(LOGIN, 403, 200, 403, 200),
    "screening:screening-detail": S(LOGIN, 403, 200, 403, 200),
    "screening:contraindication-list": S(LOGIN, 403, 200, 200, 200),
    "screening:contraindication-add": S(LOGIN, 403, 403, 403, 200),
    "screening:contraindication-edit": S(LOGIN, 403, 403, 403, 200),
    "sessions:calendar-day": S(LOGIN, 200, 200, 200, 200),
    "sessions:calendar-week": S(LOGIN, 200, 200, 200, 200),
    "sessions:appointment-book": S(LOGIN, 200, 403, 403, 200),
    "sessions:appointment-detail": S(LOGIN, 200, 200, 200, 200),
    "sessions:appointment-move": S(LOGIN, 200, 403, 403, 200),
    "sessions:appointment-cancel": S(LOGIN, 200, 403, 403, 200),
    "sessions:appointment-no-show": S(LOGIN, 405, 405, 405, 405),
    "sessions:course-create": S(LOGIN, 200, 403, 403, 200),
    "sessions:course-detail": S(LOGIN, 200, 200, 200, 200),
    "sessions:course-cancel-rest": S(LOGIN, 405, 405, 405, 405),
    "sessions:course-extend": S(LOGIN, 200, 403, 403, 200),
    "sessions:course-shorten": S(LOGIN, 405, 405, 405, 405),
    "sessions:my-day": S(LOGIN, 403, 200, 200, 403),
    "sessions:appointment-review": S(LOGIN, 403, 200, 403, 200),
    "sessions:appointment-checkin": S(LOGIN, 403, 200, 403, 200),
    "sessions:sessionlog-edit": S(LOGIN, 403, 200, 403, 200),
    "sessions:flag-acknowledge": S(LOGIN, 405, 405, 405, 405),
    "sessions:client-history": S(LOGIN, 403, 200, 403, 200),
    # The client's own links: the signed token is the key, for anybody who holds it.
    "sessions:link-confirm": S(200, 200, 200, 200, 200),
    "sessions:link-cancel": S(200, 200, 200, 200, 200),
    "sessions:link-screening": S(200, 200, 200, 200, 200),
    "sessions:link-screening-thanks": S(200, 200, 200, 200, 200),
    "sessions:reminder-list": S(LOGIN, 200, 403, 403, 200),
    "sessions:outcomes": S(LOGIN, 403, 403, 403, 200),
    "sessions:appointment-release": S(LOGIN, 405, 405, 405, 405),
    # Issue 12: reassigning the bookings a time off clashes with; the questionnaire's link from the client page.
    "sessions:time-off-reassign": S(LOGIN, 200, 403, 403, 200),
    "sessions:client-screening-link": S(LOGIN, 405, 405, 405, 405),
    "screening:questionnaire-settings": S(LOGIN, 403, 403, 403, 200),
    "sessions:reminder-policy": S(LOGIN, 403, 403, 403, 200),
    "healthz": S(200, 200, 200, 200, 200),
    "favicon": S(302, 302, 302, 302, 302),
    # Accounts (issue 11 part B): one's own account and second factor; the manager's security events.
    "parlor:account": S(LOGIN, 200, 200, 200, 200),
    "parlor:password-change": S(LOGIN, 200, 200, 200, 200),
    "parlor:two-factor-setup": S(LOGIN, 200, 200, 200, 200),
    "parlor:two-factor-verify": S(LOGIN, 302, 302, 302, 302),
    "parlor:recovery-codes": S(LOGIN, 405, 405, 405, 405),
    "parlor:two-factor-remove": S(LOGIN, 405, 405, 405, 405),
    # Django moves the token out of the address at once (to the session), then shows the form.
    "parlor:password-reset-confirm": S(302, 302, 302, 302, 302),
    "parlor:password-reset-complete": S(200, 200, 200, 200, 200),
    "parlor:security-events": S(LOGIN, 403, 403, 403, 200),
    # Online booking (issue 14): the public pages are anybody's; a client's own pages need the client's
    # sign-in (kept in the session), so every browser without one, staff included, goes to /book/.
    "online:book": S(200, 200, 200, 200, 200),
    "online:choose": S(200, 200, 200, 200, 200),
    "online:sign-in": S(200, 200, 200, 200, 200),
    "online:sign-in-link": S(200, 200, 200, 200, 200),
    "online:profile": S(302, 302, 302, 302, 302),
    "online:reservation": S(302, 302, 302, 302, 302),
    "online:questionnaire": S(302, 302, 302, 302, 302),
    "online:call-back": S(302, 302, 302, 302, 302),
    "online:sign-out": S(405, 405, 405, 405, 405),
    "online:my": S(302, 302, 302, 302, 302),
    "online:my-cancel": S(405, 405, 405, 405, 405),
    "online:my-move": S(302, 302, 302, 302, 302),
    "online:my-calendar": S(302, 302, 302, 302, 302),
    "online:waitlist-join": S(302, 302, 302, 302, 302),
    "online:waitlist-leave": S(405, 405, 405, 405, 405),
    "online:offer": S(200, 200, 200, 200, 200),
    "online:policy": S(LOGIN, 403, 403, 403, 200),
    "online:call-done": S(LOGIN, 405, 405, 405, 405),
    # The waiting list from the client card: the front desk and the manager; priority is the manager's.
    "sessions:waitlist-add": S(LOGIN, 200, 403, 403, 200),
    "sessions:waitlist-cancel": S(LOGIN, 405, 405, 405, 405),
    "sessions:waitlist-priority": S(LOGIN, 405, 405, 405, 405),
    "login": S(200, 302, 302, 302, 302),
    "logout": S(LOGIN, 405, 405, 405, 405),
    "set_language": S(302, 302, 302, 302, 302),
}
# Pages that show a client's own data to whoever holds the client's signed link.
CLIENT_LINKS = {
    "sessions:link-confirm",
    "sessions:link-cancel",
    "sessions:link-screening",
    "sessions:link-screening-thanks",
}
# Pages that list the whole catalogue (every condition's name) to everyone who works with it.
CATALOGUE_PAGES = {
    "screening:contraindication-list",
    "screening:contraindication-add",
    "screening:contraindication-edit",
    "screening:screening-create",
    "screening:clearance-create",
    "sessions:link-screening",
    "admin:screening_contraindication_changelist",
    "admin:screening_contraindication_add",
    "admin:screening_contraindication_change",
    "admin:screening_contraindication_history",
    "admin:screening_contraindication_delete",
    "admin:screening_clearance_add",
}


def _admin_expected(key: str, manager) -> dict:
    """The admin: a login page for everyone but the manager (the only staff user); for the manager
    the model permissions decide, as the admin itself does."""
    if key in ("admin:login",):
        return S(200, 200, 200, 200, 302)
    if key == "admin:logout":
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 405)
    if key in ("admin:password_change", "admin:password_change_done", "admin:index", "admin:jsi18n"):
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 200)
    if key == "admin:app_list":
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 200)
    if key == "admin:autocomplete":
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 403)
    if key == "admin:auth_user_password_change":
        # A manager never types a password for someone else: a one-time link by email (issue 11 part B).
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 403)
    if key == "admin:view_on_site":
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 302)
    if key == "admin/(?P<url>.*)$":
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 404)
    if key.startswith("admin/"):  # <object_id>/: the admin's redirect to the change page
        return S(LOGIN, LOGIN, LOGIN, LOGIN, 302)
    match = re.fullmatch(r"admin:(\w+?)_(changelist|add|history|delete|change|password_change|config|qrcode)", key)
    assert match, f"an admin URL this test does not know: {key}"
    app_label, model = _admin_model(match.group(1))
    action = match.group(2)
    needed = {
        "changelist": ("view", "change"),
        "history": ("view", "change"),
        "change": ("view", "change"),
        "add": ("add",),
        "delete": ("delete",),
        "password_change": ("change",),
        # django-otp's device pages: the key and its QR code.
        "config": ("change",),
        "qrcode": ("change",),
    }[action]
    allowed = any(manager.has_perm(f"{app_label}.{perm}_{model}") for perm in needed)
    # Shown in the admin, never changed there: they change only through the services (issue 10).
    if (app_label, model) in READ_ONLY_IN_ADMIN and action in ("add", "delete"):
        allowed = False
    return S(LOGIN, LOGIN, LOGIN, LOGIN, 200 if allowed else 403)


READ_ONLY_IN_ADMIN = {("treatments", "appointment"), ("treatments", "course"), ("screening", "clearance")}


# --- the walk --------------------------------------------------------------------------------------


def _patterns(patterns=None, prefix="", namespace=""):
    """(key, route) of every pattern: key is the URL name with its namespace, or the route when unnamed."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (namespace + pattern.name if pattern.name else route), route


ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _path(route: str, values: dict) -> str:
    """The route with its arguments filled in; KeyError names an argument without a value."""
    filled = ARGUMENT.sub(lambda m: str(values[m.group(1) or m.group(2)]), route)
    return "/" + filled.replace("^", "").replace("$", "")


ADMIN_OBJECTS = {}  # model label -> an object of it; filled by the fixture


def _admin_model(name: str) -> tuple[str, str]:
    """("otp_totp", "totpdevice") from "otp_totp_totpdevice": app labels may hold underscores too."""
    from django.apps import apps

    for config in sorted(apps.get_app_configs(), key=lambda c: -len(c.label)):
        if name.startswith(config.label + "_"):
            return config.label, name[len(config.label) + 1 :]
    raise AssertionError(f"an admin URL of an app this test does not know: {name}")


def _values(key: str, route: str, world) -> dict:
    """The argument values of one page, real objects of client A; {} for pages without arguments."""
    if not ARGUMENT.search(route):
        return {}
    a = world.a
    day = a.upcoming.starts_at.astimezone(datetime.UTC).date().isoformat()
    by_key = {
        "parlor:resource-list": {"slug": "rooms"},
        "parlor:resource-add": {"slug": "rooms"},
        "parlor:resource-edit": {"slug": "rooms", "pk": a.upcoming.room_id},
        "parlor:resource-delete": {"slug": "rooms", "pk": a.upcoming.room_id},
        "clients:user-trail": {"user_pk": world.masseur_booked.pk},
        "screening:screening-detail": {"pk": a.screening.pk},
        "screening:clearance-scan": {"pk": a.clearance.pk},
        "screening:contraindication-edit": {"pk": Contraindication.objects.get(code="kidney-disease").pk},
        "sessions:calendar-day": {"day": day},
        "sessions:calendar-week": {"day": day},
        "sessions:course-detail": {"pk": a.course.pk},
        "sessions:course-cancel-rest": {"pk": a.course.pk},
        "sessions:course-extend": {"pk": a.course.pk},
        "sessions:course-shorten": {"pk": a.course.pk},
        "sessions:sessionlog-edit": {"pk": a.done.pk},
        "sessions:time-off-reassign": {"pk": TimeOff.objects.order_by("pk").first().pk},
        "sessions:client-screening-link": {"pk": a.client.pk},
        "parlor:closed-day-delete": {"pk": 1},
        "sessions:flag-acknowledge": {"pk": a.flag.pk},
        "sessions:client-history": {"pk": a.client.pk},
        "sessions:link-confirm": {"token": links.appointment_token(a.upcoming, links.CONFIRM)},
        "sessions:link-cancel": {"token": links.appointment_token(a.upcoming, links.CANCEL)},
        "sessions:link-screening": {"token": links.screening_token(a.client)},
        "sessions:link-screening-thanks": {"token": links.screening_token(a.client)},
        "online:sign-in-link": {"token": world.online["sign_in_token"]},
        "online:offer": {"token": offer_links.offer_token(world.online["offer"])},
        "online:my-cancel": {"pk": a.upcoming.pk},
        "online:my-move": {"pk": a.upcoming.pk},
        "online:my-calendar": {"pk": a.upcoming.pk},
        "online:waitlist-leave": {"pk": world.online["offer"].entry_id},
        "online:call-done": {"pk": world.online["call"].pk},
        "sessions:waitlist-add": {"client_pk": a.client.pk},
        "sessions:waitlist-cancel": {"pk": world.online["offer"].entry_id},
        "sessions:waitlist-priority": {"pk": world.online["offer"].entry_id},
        "admin:app_list": {"app_label": "clients"},
        "admin:view_on_site": {
            "content_type_id": ContentType.objects.get_for_model(a.client).pk,
            "object_id": a.client.pk,
        },
        "admin/(?P<url>.*)$": {"url": "no-such-page/"},
        "parlor:password-reset-confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(world.masseur_booked.pk)),
            "token": default_token_generator.make_token(world.masseur_booked),
        },
    }
    if key in by_key:
        return by_key[key]
    if key.startswith("clients:"):
        return {"pk": a.client.pk}
    if key.startswith("screening:"):
        return {"client_pk": a.client.pk}
    if key.startswith("sessions:appointment-"):
        return {"pk": a.upcoming.pk}
    admin_model = re.match(
        r"admin(?::(\w+?)_(?:changelist|add|history|delete|change|password_change|config|qrcode)|/(\w+)/(\w+)/<path:object_id>/)$",
        key,
    )
    if admin_model:
        app_label, model = _admin_model(admin_model.group(1)) if admin_model.group(1) else admin_model.group(2, 3)
        obj = ADMIN_OBJECTS[f"{app_label}.{model}"]
        return {"object_id": obj.pk, "id": obj.pk, "pk": obj.pk}
    return {}


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = build_world()
    TimeOff.objects.create(
        masseur=world.other_masseur,
        starts_at=world.a.upcoming.starts_at + datetime.timedelta(days=20),
        ends_at=world.a.upcoming.starts_at + datetime.timedelta(days=21),
    )
    world.online = _online_objects(world)
    from django.apps import apps

    ADMIN_OBJECTS.clear()
    device_owner = UserFactory(username="has-devices")
    for label, obj in {
        "auth.user": world.masseur_booked,
        "auth.group": Group.objects.get(name="Manager"),
        "clients.client": world.a.client,
        "screening.clearance": world.a.clearance,
        "screening.contraindication": Contraindication.objects.get(code="kidney-disease"),
        "treatments.appointment": world.a.upcoming,
        "treatments.course": world.a.course,
        "parlor.room": world.a.upcoming.room,
        "parlor.masseur": world.masseur,
        "parlor.massagetype": world.a.upcoming.massage_type,
        "parlor.timeoff": TimeOff.objects.get(),
        "axes.accessattempt": AccessAttempt.objects.create(
            username="someone", ip_address="10.0.0.9", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(username="someone", ip_address="10.0.0.9"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(username="someone", ip_address="10.0.0.9"),
        # Of a user of their own: a device makes its user pass the second factor from then on.
        "otp_totp.totpdevice": TOTPDevice.objects.create(user=device_owner, name="phone", confirmed=True),
        "otp_static.staticdevice": StaticDevice.objects.create(user=device_owner, name="codes", confirmed=True),
    }.items():
        assert apps.get_model(label) is type(obj)
        ADMIN_OBJECTS[label] = obj
    return world


def _online_objects(world) -> dict:
    """Client A's sign-in link, a waiting-list offer and a call for the front desk (issue 14)."""
    a = world.a
    row = signin.sign_in_request(email=a.client.email, address="10.0.0.1", language="uk")
    entry = WaitlistEntry.objects.create(
        client=a.client, massage_type=a.upcoming.massage_type, until=a.upcoming.starts_at.date()
    )
    slot = WaitlistSlot.objects.create(
        massage_type=a.upcoming.massage_type,
        masseur=world.other_masseur,
        room=a.upcoming.room,
        starts_at=a.upcoming.starts_at + datetime.timedelta(days=30),
        ends_at=a.upcoming.ends_at + datetime.timedelta(days=30),
        blocks_until=a.upcoming.blocks_until + datetime.timedelta(days=30),
    )
    offer = WaitlistOffer.objects.create(entry=entry, slot=slot, expires_at=slot.starts_at)
    call = CallRequest.objects.create(
        client=a.client,
        reason=CallRequest.Reason.SCREENING_BLOCKS,
        massage_type=a.upcoming.massage_type,
        wanted_at=a.upcoming.starts_at,
    )
    return {
        "sign_in_token": signin.link_token(nonce=row.nonce, email=a.client.email, choice=None),
        "offer": offer,
        "call": call,
    }


def _browsers(world) -> dict[str, HttpClient]:
    users = {
        "reception": world.receptionist,
        "masseur_booked": world.masseur_booked,
        "masseur_other": world.masseur_other,
        "manager": world.manager,
    }
    browsers = {"anonymous": HttpClient()}
    for role, user in users.items():
        browsers[role] = HttpClient()
        login_as(browsers[role], user)
    return browsers


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def test_every_url_is_in_the_table():
    keys = {key for key, _route in _patterns()}
    missing = sorted(k for k in keys if k not in EXPECTED and not k.startswith(("admin:", "admin/")))
    assert missing == [], f"pages missing from EXPECTED in {__file__}: {missing}"
    stale = sorted(k for k in EXPECTED if k not in keys)
    assert stale == [], f"EXPECTED names pages that no longer exist: {stale}"


def test_every_role_gets_the_expected_status_and_no_health_data_it_may_not_see(world):
    browsers = _browsers(world)
    a_markers = world.a.markers + world.a.adaptations
    b_markers = world.b.markers
    unfilled, wrong, leaks, untrailed = [], [], [], []
    for key, route in _patterns():
        try:
            path = _path(route, _values(key, route, world))
        except KeyError as exc:
            unfilled.append(f"{key}: no value for {exc}")
            continue
        expected = EXPECTED.get(key) or _admin_expected(key, world.manager)
        for role in ROLES:
            before = AccessEntry.objects.filter(client=world.a.client).count()
            response = browsers[role].get(path)
            if response.status_code != expected[role]:
                wrong.append(f"{key} as {role}: {response.status_code}, expected {expected[role]} ({path})")
            body = _body(response)
            shown = [m for m in a_markers if m in body]
            if key not in CATALOGUE_PAGES:
                shown += [n for n in world.a.condition_names if n in body]
            if role in MAY_SEE_A:
                if shown and AccessEntry.objects.filter(client=world.a.client).count() == before:
                    untrailed.append(f"{key} as {role} showed {shown[:2]} without an access entry")
                continue
            if role == "anonymous" and key in CLIENT_LINKS:
                continue  # the client's own link: A's own data for whoever holds A's token
            if role == "reception":
                shown += [m for m in b_markers if m in body]
            if shown:
                leaks.append(f"{key} as {role}: {shown}")
    assert not unfilled, "pages this test cannot fill (add them to _values):\n" + "\n".join(unfilled)
    assert not wrong, "unexpected statuses (see EXPECTED):\n" + "\n".join(wrong)
    assert not leaks, "health data shown to a role that must not see it:\n" + "\n".join(leaks)
    assert not untrailed, "health data shown without an access entry:\n" + "\n".join(untrailed)


def test_the_markers_are_real_the_manager_sees_them_and_it_is_trailed(world):
    browsers = _browsers(world)
    page = _body(browsers["manager"].get(f"/clients/{world.a.client.pk}/"))
    assert "zz-oil-a" in page
    assert "CLINICAL-CLIENT-NOTE-A" in page
    review = _body(browsers["masseur_booked"].get(f"/sessions/appointments/{world.a.upcoming.pk}/review/"))
    assert "no percussion over the kidneys" in review
    assert AccessEntry.objects.filter(client=world.a.client).count() == 2
