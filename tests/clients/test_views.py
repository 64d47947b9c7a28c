import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clients import panels
from clients.models import Client
from tests.clients.helpers import make_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("clients:client-list")
CREATE = reverse("clients:client-create")


def _form_data(**overrides) -> dict:
    data = {
        "full_name": "Оксана Шевченко",
        "phone": "067 123 4567",
        "email": "oksana@example.com",
        "birth_date": "1985-05-17",
        "sex": "female",
        "language": "uk",
        "preferred_pressure": "",
        "allergens": "Sandalwood, jasmine,, sandalwood",
        "reminder_consent": "on",
        "guardian_name": "",
        "guardian_phone": "",
        "notes": "",
        "data_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# Permissions, by direct URL access for each role


@pytest.fixture
def client_record():
    return make_client()


@pytest.fixture
def nobody_client():
    user = UserFactory(username="nobody")
    http = HttpClient()
    http.force_login(user)
    return http


def _urls(record):
    return {
        "list": LIST,
        "create": CREATE,
        "detail": reverse("clients:client-detail", args=[record.pk]),
        "edit": reverse("clients:client-edit", args=[record.pk]),
        "merge": reverse("clients:client-merge", args=[record.pk]),
    }


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("manager_client", {"list", "create", "detail", "edit", "merge"}),
        ("reception_client", {"list", "create", "detail", "edit"}),
        ("masseur_client", {"list", "detail"}),
        ("nobody_client", set()),
    ],
)
def test_client_pages_by_role(request, client_record, role, allowed):
    http = request.getfixturevalue(role)
    for name, url in _urls(client_record).items():
        expected = 200 if name in allowed else 403
        assert http.get(url).status_code == expected, (role, name)


@pytest.mark.parametrize("role", ["masseur_client", "nobody_client"])
def test_client_create_post_is_forbidden_without_the_permission(request, role):
    response = request.getfixturevalue(role).post(CREATE, _form_data())
    assert response.status_code == 403
    assert not Client.objects.exists()


def test_client_edit_post_is_forbidden_to_a_masseur(masseur_client, client_record):
    url = reverse("clients:client-edit", args=[client_record.pk])
    response = masseur_client.post(url, _form_data(full_name="Змінено"))
    assert response.status_code == 403
    client_record.refresh_from_db()
    assert client_record.full_name == "Оксана Шевченко"


def test_client_merge_post_is_forbidden_to_a_receptionist(reception_client, client_record):
    other = make_client(phone="0509999999", email="other@example.com")
    url = reverse("clients:client-merge", args=[client_record.pk])
    assert reception_client.post(url, {"into": other.pk}).status_code == 403
    client_record.refresh_from_db()
    assert client_record.merged_into is None


def test_client_pages_need_a_login(client, client_record):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_navigation_shows_clients_to_staff_with_the_view_permission(masseur_client, nobody_client):
    assert f'href="{LIST}"' in masseur_client.get("/").content.decode()
    assert f'href="{LIST}"' not in nobody_client.get("/").content.decode()


def test_client_detail_offers_edit_and_merge_only_to_who_may(
    masseur_client, reception_client, manager_client, client_record
):
    url = client_record.get_absolute_url()
    edit = reverse("clients:client-edit", args=[client_record.pk])
    merge = reverse("clients:client-merge", args=[client_record.pk])
    masseur_page = masseur_client.get(url).content.decode()
    assert edit not in masseur_page and merge not in masseur_page
    reception_page = reception_client.get(url).content.decode()
    assert edit in reception_page and merge not in reception_page
    manager_page = manager_client.get(url).content.decode()
    assert edit in manager_page and merge in manager_page


def test_client_detail_of_a_missing_client_is_404(manager_client):
    assert manager_client.get(reverse("clients:client-detail", args=[999999])).status_code == 404


# Create and edit


def test_client_create_by_a_receptionist_registers_and_redirects(reception_client, receptionist):
    response = reception_client.post(CREATE, _form_data())
    client = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == client.get_absolute_url()
    assert client.created_by == receptionist
    assert client.allergens == ["sandalwood", "jasmine"]
    assert client.reminder_consent is True
    assert client.data_consent_at is not None


def test_client_create_form_offers_the_common_allergens(reception_client):
    page = reception_client.get(CREATE).content.decode()
    assert '<datalist id="common-allergens">' in page
    # By their names in the page's language; the service stores the code.
    assert '<option value="palmarosa"></option>' in page
    assert '<option value="sandalwood"></option>' in page
    assert 'list="common-allergens"' in page


def test_client_create_page_in_ukrainian(reception_client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = reception_client.get(CREATE, HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 200
    assert '<html lang="uk">' in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "+38012", "Enter a valid phone number"),
        ("phone", "телефон", "Enter a valid phone number"),
        ("email", "oksana@", "Enter a valid email address."),
        ("birth_date", "2999-01-01", "The date of birth cannot be in the future."),
        ("birth_date", "1890-01-01", "The date of birth is more than 120 years ago; please check the year."),
        ("birth_date", "17.05.85x", "Enter a valid date."),
        ("guardian_name", "", "A client under 18 needs a guardian: enter the guardian&#x27;s name."),
        ("data_consent", None, "The client must consent to the processing of personal data."),
    ],
)
def test_client_create_bad_input_is_refused_beside_the_field_and_kept(reception_client, field, value, message):
    overrides = {field: value}
    if field == "guardian_name":
        overrides["birth_date"] = (datetime.date.today() - datetime.timedelta(days=365 * 10)).isoformat()
    response = reception_client.post(CREATE, _form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    expected_fields = {"guardian_name", "guardian_phone"} if field == "guardian_name" else {field}
    assert set(form.errors) == expected_fields
    page = response.content.decode()
    assert message in page
    if value:
        assert f'value="{value}"' in page
    assert 'value="Оксана Шевченко"' in page
    assert not Client.objects.exists()


def test_client_create_duplicate_phone_links_to_the_existing_record(reception_client, client_record):
    response = reception_client.post(CREATE, _form_data(email="new@example.com", phone="+380671234567"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    page = response.content.decode()
    link = f'<a href="{client_record.get_absolute_url()}">Оксана Шевченко</a>'
    assert f"A client with this phone already exists: {link}" in page
    assert Client.objects.count() == 1


def test_client_create_duplicate_email_links_to_the_existing_record(reception_client, client_record):
    response = reception_client.post(CREATE, _form_data(phone="0509999999", email="OKSANA@example.com"))
    assert list(response.context["form"].errors) == ["email"]
    assert f'A client with this email already exists: <a href="{client_record.get_absolute_url()}">' in (
        response.content.decode()
    )


def test_client_create_duplicate_name_is_escaped_in_the_link(reception_client):
    existing = make_client(full_name="<b>Оксана</b>")
    response = reception_client.post(CREATE, _form_data(email="new@example.com"))
    page = response.content.decode()
    assert f'<a href="{existing.get_absolute_url()}">&lt;b&gt;Оксана&lt;/b&gt;</a>' in page


def test_client_edit_saves_and_keeps_own_phone(reception_client, client_record):
    url = reverse("clients:client-edit", args=[client_record.pk])
    data = _form_data(full_name="Оксана Коваль", allergens="rose")
    data.pop("data_consent")
    response = reception_client.post(url, data)
    assert response.status_code == 302
    client_record.refresh_from_db()
    assert client_record.full_name == "Оксана Коваль"
    assert client_record.allergens == ["rose"]


def test_client_edit_shows_allergens_as_text_and_guardian_consent_ticked(manager_client):
    # Issue 11: only those who may see the health record see the allergens (the manager here).
    record = make_client(
        birth_date=datetime.date.today() - datetime.timedelta(days=3650),
        guardian_name="Олена",
        guardian_phone="0501112233",
        guardian_consent=True,
        allergens=["rose", "orange"],
    )
    response = manager_client.get(reverse("clients:client-edit", args=[record.pk]))
    page = response.content.decode()
    assert 'value="rose, orange"' in page
    assert response.context["form"]["guardian_consent"].value() is True
    assert 'name="data_consent"' not in page


def test_client_edit_by_reception_hides_allergens_and_notes_and_keeps_them(reception_client):
    record = make_client(allergens=["lanolin", "mint"], notes="Варикоз на лівій нозі")
    url = reverse("clients:client-edit", args=[record.pk])
    page = reception_client.get(url).content.decode()
    assert "lanolin" not in page
    assert "Варикоз" not in page
    assert 'name="notes"' not in page
    assert "Add allergens" in page

    data = _form_data(full_name=record.full_name, phone="0671234567", allergens="jasmine, rose")
    data.pop("data_consent", None)
    response = reception_client.post(url, data)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.allergens == ["lanolin", "mint", "jasmine", "rose"]
    assert record.notes == "Варикоз на лівій нозі"


def test_client_detail_hides_allergens_and_notes_from_reception(reception_client, manager_client):
    record = make_client(allergens=["patchouli"], notes="Варикоз на лівій нозі")
    url = reverse("clients:client-detail", args=[record.pk])
    reception_page = reception_client.get(url).content.decode()
    assert "patchouli" not in reception_page
    assert "Варикоз" not in reception_page
    manager_page = manager_client.get(url).content.decode()
    assert "patchouli" in manager_page
    assert "Варикоз" in manager_page


def test_client_edit_to_another_clients_email_links_to_it(reception_client, client_record):
    other = make_client(phone="0509999999", email="other@example.com")
    data = _form_data(phone="0509999999", email="oksana@example.com")
    data.pop("data_consent")
    response = reception_client.post(reverse("clients:client-edit", args=[other.pk]), data)
    assert list(response.context["form"].errors) == ["email"]
    assert client_record.get_absolute_url() in response.content.decode()


def test_client_edit_of_a_merged_record_redirects_to_it(manager_client, client_record):
    kept = make_client(phone="0509999999", email="kept@example.com")
    Client.objects.filter(pk=client_record.pk).update(merged_into=kept)
    response = manager_client.get(reverse("clients:client-edit", args=[client_record.pk]))
    assert response.status_code == 302
    assert response["Location"] == client_record.get_absolute_url()


# List and search


def test_client_list_searches_by_latin_name(masseur_client, client_record):
    make_client(full_name="Роман Коваль", phone="0509999999", email="roman@example.com")
    response = masseur_client.get(LIST, {"q": "shevchenko"})
    assert [c.full_name for c in response.context["clients"]] == ["Оксана Шевченко"]
    assert client_record.get_absolute_url() in response.content.decode()


def test_client_list_without_query_shows_recently_updated(masseur_client):
    make_client()
    make_client(full_name="Роман Коваль", phone="0509999999", email="roman@example.com")
    response = masseur_client.get(LIST)
    assert [c.full_name for c in response.context["clients"]] == ["Роман Коваль", "Оксана Шевченко"]
    assert "New client" not in response.content.decode()


def test_client_list_no_match_says_so(masseur_client):
    response = masseur_client.get(LIST, {"q": "Zzyzx"})
    assert "No client matches this search." in response.content.decode()


def _many_clients(count: int):
    for n in range(count):
        make_client(
            full_name=f"Клієнт Номер{n}",
            phone=f"+38050{n:07d}",
            email=f"c{n}@example.com",
            allergens=["rose"],
            birth_date=datetime.date(2012, 1, 1) if n % 5 == 0 else datetime.date(1980, 1, 1),
            guardian_name="Олена" if n % 5 == 0 else "",
            guardian_phone=f"+38063{n:07d}" if n % 5 == 0 else "",
        )


@pytest.mark.parametrize("count", [2, 40])
@pytest.mark.parametrize("query", ["", "клієнт"])
def test_client_list_query_count_does_not_grow_with_rows(masseur_client, django_assert_max_num_queries, count, query):
    _many_clients(count)
    # Session, user, permissions, the search's threshold setting and the clients.
    with django_assert_max_num_queries(6):
        response = masseur_client.get(LIST, {"q": query})
    assert len(response.context["clients"]) == count


@pytest.mark.parametrize("merged", [0, 15])
def test_client_detail_query_count_does_not_grow_with_merged_records(
    manager_client, manager, django_assert_max_num_queries, monkeypatch, merged
):
    from clients import services

    # Other apps' panels count their own queries in their own tests.
    monkeypatch.setattr(panels, "_panels", [])
    kept = make_client(phone="0931112233", email="kept@example.com")
    _many_clients(merged)
    for duplicate in Client.objects.exclude(pk=kept.pk):
        services.client_merge(source=duplicate, target=kept, merged_by=manager)
    # Session, user, the manager's two-factor device, two for permissions, the client, the
    # records merged into it, the access trail's entry.
    with django_assert_max_num_queries(8):
        response = manager_client.get(kept.get_absolute_url())
    assert len(response.context["merged_from"]) == merged


# Panels


def test_client_detail_shows_panels_in_order_and_hides_none(masseur_client, client_record, monkeypatch):
    monkeypatch.setattr(panels, "_panels", [])
    calls = []

    # Any template will do; the merge page's record card shows the name it is given.
    def first(request, client):
        calls.append(client.pk)
        return "clients/_merge_card.html", {"record": {"full_name": "Перша панель"}}

    def hidden(request, client):
        return None

    def second(request, client):
        return "clients/_merge_card.html", {"record": {"full_name": f"Друга для {request.user.username}"}}

    for panel in (first, hidden, second, first):
        panels.register(panel)
    assert panels.registered() == [first, hidden, second]
    page = masseur_client.get(client_record.get_absolute_url()).content.decode()
    assert calls == [client_record.pk]
    assert page.index("Перша панель") < page.index("Друга для hands")


# Merge page


def test_client_merge_page_finds_candidates_and_compares(manager_client, client_record):
    other = make_client(full_name="Оксана Шевченко-Коваль", phone="0509999999", email="other@example.com")
    url = reverse("clients:client-merge", args=[client_record.pk])
    response = manager_client.get(url, {"q": "шевченко"})
    assert [c.pk for c in response.context["candidates"]] == [other.pk]
    response = manager_client.get(url, {"into": other.pk})
    assert response.context["target"] == other
    assert 'data-testid="merge-confirm"' in response.content.decode()


def test_client_merge_post_merges_and_redirects_to_the_kept_record(manager_client, client_record):
    other = make_client(phone="0509999999", email="other@example.com")
    response = manager_client.post(reverse("clients:client-merge", args=[client_record.pk]), {"into": other.pk})
    assert response.status_code == 302
    assert response["Location"] == other.get_absolute_url()
    client_record.refresh_from_db()
    assert client_record.merged_into == other
    page = manager_client.get(client_record.get_absolute_url()).content.decode()
    assert 'data-testid="merged-banner"' in page


@pytest.mark.parametrize("into", ["self", "merged", "missing", "text"])
def test_client_merge_into_an_invalid_record_is_refused(manager_client, client_record, into):
    other = make_client(phone="0509999999", email="other@example.com")
    third = make_client(phone="0931112233", email="third@example.com")
    Client.objects.filter(pk=other.pk).update(merged_into=third)
    value = {"self": client_record.pk, "merged": other.pk, "missing": 999999, "text": "abc"}[into]
    response = manager_client.post(reverse("clients:client-merge", args=[client_record.pk]), {"into": value})
    assert response.status_code == 200
    assert response.context["form"].errors["into"] == ["There is no live client with this number."]
    client_record.refresh_from_db()
    assert client_record.merged_into is None


def test_client_merge_of_a_merged_record_redirects(manager_client, client_record):
    kept = make_client(phone="0509999999", email="kept@example.com")
    Client.objects.filter(pk=client_record.pk).update(merged_into=kept)
    response = manager_client.get(reverse("clients:client-merge", args=[client_record.pk]))
    assert response.status_code == 302


def test_client_pages_render_in_ukrainian(manager_client, client_record, settings):
    settings.LANGUAGE_CODE = "uk"
    other = make_client(phone="0509999999", email="other@example.com", allergens=["rose"])
    merge = reverse("clients:client-merge", args=[client_record.pk])
    for url in [
        LIST,
        f"{LIST}?q=шевч",
        CREATE,
        client_record.get_absolute_url(),
        reverse("clients:client-edit", args=[client_record.pk]),
        f"{merge}?q=example",
        f"{merge}?into={other.pk}",
    ]:
        response = manager_client.get(url, HTTP_ACCEPT_LANGUAGE="uk")
        assert response.status_code == 200, url
        assert '<html lang="uk">' in response.content.decode()


# Limits and hints people run into


def test_phone_hint_and_error_give_the_same_example(reception_client):
    response = reception_client.post(CREATE, _form_data(phone="12345", guardian_phone="99"))
    form = response.context["form"]
    assert "067 123 4567" in form.fields["phone"].help_text
    assert form.errors["phone"] == [
        "Enter a valid phone number: a Ukrainian one as 067 123 4567, a foreign one with its country code, "
        "e.g. +44 20 7946 0958."
    ]
    assert form.errors["guardian_phone"] == form.errors["phone"]
    assert "+44 20 7946 0958" in form.fields["phone"].help_text


def test_client_notes_longer_than_the_limit_are_refused_with_a_message_and_kept(reception_client):
    notes = "н" * 2001
    response = reception_client.post(CREATE, _form_data(notes=notes))
    assert response.status_code == 200
    assert response.context["form"].errors["notes"] == ["Ensure this value has at most 2000 characters (it has 2001)."]
    assert notes in response.content.decode()
    assert not Client.objects.filter(full_name="Оксана Шевченко").exists()


def test_client_name_longer_than_the_limit_is_refused_in_ukrainian(reception_client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = reception_client.post(CREATE, _form_data(full_name="Я" * 5000))
    assert response.context["form"].errors["full_name"] == [
        "Переконайтеся, що це значення містить не більше ніж 200 символів (зараз 5000)."
    ]


# --- the navigation bar's search (issue 12) ---------------------------------------------------------


def test_the_navigation_search_answers_htmx_with_suggestions_only(reception_client):
    make_client(full_name="Ірина Бондаренко", phone="+380501112233", email="iryna@example.com")

    response = reception_client.get("/clients/", {"q": "050 111 22 33"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "<html" not in body
    assert body.count('data-testid="nav-search-result"') == 1
    assert "Ірина Бондаренко" in body


@pytest.mark.parametrize(
    ("typed", "param"),
    [
        ("Нова Клієнтка", "full_name=%D0%9D%D0%BE%D0%B2%D0%B0+%D0%9A%D0%BB%D1%96%D1%94%D0%BD%D1%82%D0%BA%D0%B0"),
        ("067 999 00 11", "phone=067+999+00+11"),
    ],
)
def test_a_search_that_finds_nobody_offers_a_new_client_pre_filled(reception_client, typed, param):
    body = reception_client.get("/clients/", {"q": typed}, HTTP_HX_REQUEST="true").content.decode()

    assert 'data-testid="nav-search-none"' in body
    assert f'href="/clients/new/?{param}"' in body


def test_a_masseur_gets_no_new_client_link_in_the_suggestions(masseur_client):
    body = masseur_client.get("/clients/", {"q": "Нікого"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="nav-search-new"' not in body


def test_every_staff_page_has_the_search_box(reception_client, masseur_client):
    for http in (reception_client, masseur_client):
        body = http.get("/").content.decode()
        assert 'data-testid="nav-search-input"' in body
        assert 'hx-get="/clients/"' in body


def test_suggestion_query_count_does_not_grow_with_clients(reception_client, django_assert_max_num_queries):
    def queries() -> int:
        with django_assert_max_num_queries(10) as captured:
            reception_client.get("/clients/", {"q": "Коваль"}, HTTP_HX_REQUEST="true")
        return len(captured.captured_queries)

    make_client(full_name="Олена Коваль", phone="+380501110000", email="")
    few = queries()
    for n in range(20):
        make_client(full_name=f"Марія Коваль {n}", phone=f"+3805011100{n + 10:02d}", email="")
    assert queries() == few
