"""Input no form could store (a NUL byte, bytes that are not UTF-8) answers 400 with a message,
never 500; and every page, search and form of the site, fuzzed with Hypothesis, answers < 500."""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.parlor.pagewalk import build_site, every_route, first_open, forms_on, urls_for
from tests.sessions.test_masseur_support import NOW

pytestmark = pytest.mark.django_db

MESSAGE = "What was sent contains characters that cannot be stored"
CLIENTS = reverse("clients:client-list")


def _refused(response) -> bool:
    return response.status_code == 400 and MESSAGE in response.content.decode()


# The refusals, one by one


def test_a_nul_byte_in_the_search_is_refused_with_a_message(reception_client):
    # Was a 500: PostgreSQL refuses NUL in a text value.
    response = reception_client.get("/clients/?q=%00")
    assert _refused(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("query", ["q=%FF", "q=caf%E9", "q=%C3", "%FF=1", "q=ok&page=%00"])
def test_bytes_that_are_not_utf8_in_the_query_are_refused(reception_client, query):
    assert _refused(reception_client.get(f"{CLIENTS}?{query}"))


def test_a_nul_byte_in_a_urlencoded_form_is_refused(reception_client):
    body = "full_name=a%00b&phone=0671234567"
    response = reception_client.post(
        reverse("clients:client-create"), body, content_type="application/x-www-form-urlencoded"
    )
    assert _refused(response)


def test_bytes_that_are_not_utf8_in_a_urlencoded_form_are_refused(reception_client):
    response = reception_client.post(
        reverse("clients:client-create"), "full_name=%FF%FE", content_type="application/x-www-form-urlencoded"
    )
    assert _refused(response)


def test_a_nul_byte_in_a_multipart_form_is_refused(reception_client):
    response = reception_client.post(reverse("clients:client-create"), {"full_name": "Олена\x00"})
    assert _refused(response)


def test_bytes_that_are_not_utf8_in_a_multipart_form_are_refused(reception_client):
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="full_name"\r\n\r\n'.encode()
        + b"\xff\xfe\xfd"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = reception_client.post(
        reverse("clients:client-create"), body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert _refused(response)


def test_a_nul_byte_in_a_file_name_never_reaches_the_form(reception_client, db):
    from tests.factories import ClientFactory

    client = ClientFactory()
    scan = SimpleUploadedFile("scan\x00.pdf", b"%PDF-1.4")
    response = reception_client.post(reverse("screening:clearance-create", args=[client.pk]), {"scan": scan})
    # Django's multipart parser drops unprintable characters from file names.
    assert response.status_code == 200
    assert response.context["form"].files["scan"].name == "scan.pdf"


def test_a_nul_byte_in_the_path_is_refused(reception_client):
    assert _refused(reception_client.get("/sessions/calendar/2027-03-01%00/"))


def test_a_nul_byte_in_a_cookie_is_refused(reception_client):
    reception_client.cookies["csrftoken"] = "abc\x00def"
    assert _refused(reception_client.get(CLIENTS))


def test_the_admins_search_is_covered_too(admin_client):
    assert _refused(admin_client.get(reverse("admin:auth_user_changelist"), {"q": "\x00"}))


def test_the_log_in_form_refuses_a_nul_byte_without_counting_a_failure(client):
    from parlor.models import SecurityEvent

    assert _refused(client.post("/login/", {"username": "desk\x00", "password": "x"}))
    assert SecurityEvent.objects.count() == 0


def test_ordinary_ukrainian_text_with_an_apostrophe_passes(reception_client):
    response = reception_client.get(CLIENTS, {"q": "Мар’яна д'Арк"})
    assert response.status_code == 200


# The whole site, fuzzed

ROUTES = every_route()
# Query parameters every page is tried with, beside the ones its own GET forms name.
COMMON_PARAMETERS = ["q", "page", "next", "day", "course", "state", "kind", "username", "client", "masseur"]
EXAMPLES = 8

# Values that broke Django sites before: NUL, long numbers, impossible dates, odd Unicode.
NASTY = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "0",
        "-1",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2027-02-30",
        "9999-12-31",
        "0001-01-01T00:00",
        "25:61",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%00",
        "\u202e\u0301\ufeff",
        "９９",
        "x" * 5000,
    ]
)
EDGES = [
    "9999-12-31",
    "9999-12-31T23:59",
    "0001-01-01",
    "0001-01-01T00:00",
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "x" * 5000,
]
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _value(offered: list[str]):
    choices = [value for value in offered if value]
    strategies = [NASTY, TEXT]
    if choices:
        strategies.append(st.sampled_from(choices))
    return st.one_of(*strategies)


@pytest.fixture
def site(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the clearance's scan
    with time_machine.travel(NOW, tick=False):
        yield build_site()


def test_every_route_can_be_filled(site):
    # Fails naming a new route the walk cannot fill, so new pages join the fuzz.
    assert all(urls_for(route, site) for route in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
def test_every_page_and_its_forms_survive_fuzzing(site, route):
    with time_machine.travel(NOW, tick=False):
        for url in urls_for(route, site):
            opened = first_open(site, url)
            if opened is None:  # POST-only: its form is fuzzed on the page that shows it
                continue
            role, response, url = opened
            http = site.client_for(role)
            html = not response.streaming and response["Content-Type"].startswith("text/html")
            forms = forms_on(url, response.content.decode()) if html else []
            get_names = {name for form in forms if form.method == "get" for name in form.fields}
            _fuzz_query(http, url, sorted(get_names | set(COMMON_PARAMETERS)))
            for form in forms:
                if form.method == "post":
                    _fuzz_form(http, form)


def _check(response, sent: dict) -> None:
    values = [str(v) for v in sent.values()]
    assert response.status_code < 500, (response.status_code, sent)
    if any("\x00" in value for value in values):
        assert response.status_code == 400, sent


def _fuzz_query(http: Client, url: str, names: list[str]) -> None:
    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(names), st.one_of(NASTY, TEXT), max_size=3))
    def run(params):
        _check(http.get(url, params), params)

    run()


def _fuzz_form(http: Client, form) -> None:
    strategy = st.fixed_dictionaries({name: _value(offered) for name, offered in form.fields.items()})

    @FUZZ
    @given(data=strategy)
    def run(data):
        _check(http.post(form.action, data), data)

    run()
    if not form.fields:
        return
    # Every field at once with each edge value: a view that reads cleaned_data of an invalid form
    # meets the value whatever the other fields hold.
    for value in EDGES:
        data = dict.fromkeys(form.fields, value)
        _check(http.post(form.action, data), data)
    # And with a NUL byte: always the 400 page.
    assert _refused(http.post(form.action, dict.fromkeys(form.fields, "x\x00"))), form.action
