import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clients import demo, selectors
from clients.models import Client
from clients.search import normalise_query, search_text_for
from tests.clients.helpers import make_client


@pytest.mark.django_db
class TestClientSearch:
    @pytest.fixture(autouse=True)
    def _clients(self):
        self.shevchenko = make_client(full_name="Тарас Шевченко", phone="0671234567", email="taras@example.com")
        self.kovalenko = make_client(full_name="Олена Коваленко", phone="0509876543", email="olena.k@example.org")
        self.clarke = make_client(full_name="Emily Clarke", phone="+447911123456", email="emily@example.net")
        self.shevchuk = make_client(full_name="Роман Шевчук", phone="0931112233", email="")

    def _names(self, query):
        return [c.full_name for c in selectors.client_search(query)]

    def test_client_search_cyrillic_name_fragment(self):
        assert self._names("коваленко") == ["Олена Коваленко"]

    def test_client_search_latin_query_finds_cyrillic_name(self):
        assert self._names("Shevchenko") == ["Тарас Шевченко"]

    def test_client_search_typo_finds_the_name(self):
        # Best match first; the other Шевч- surname is similar enough to follow it.
        assert self._names("Шевчнко") == ["Тарас Шевченко", "Роман Шевчук"]

    def test_client_search_latin_typo_finds_the_cyrillic_name(self):
        assert self._names("shevchnko") == ["Тарас Шевченко", "Роман Шевчук"]

    def test_client_search_puts_a_word_starting_with_the_query_first(self):
        make_client(full_name="Юрій Ченко", phone="0631112233", email="")
        assert self._names("ченко") == ["Юрій Ченко", "Тарас Шевченко"]

    def test_client_search_substring_matches_in_name_order(self):
        assert self._names("Шевч") == ["Роман Шевчук", "Тарас Шевченко"]

    def test_client_search_skips_the_fuzzy_step_when_a_name_contains_the_query(self):
        assert self._names("шевчук") == ["Роман Шевчук"]

    def test_client_search_a_wrong_digit_finds_no_phone(self):
        assert self._names("067 124") == []

    def test_client_search_phone_fragment_with_spaces(self):
        assert self._names("067 123") == ["Тарас Шевченко"]

    def test_client_search_phone_in_international_form(self):
        assert self._names("+380 67 123 45 67") == ["Тарас Шевченко"]

    def test_client_search_foreign_phone_national_form(self):
        assert self._names("07911 123") == ["Emily Clarke"]

    def test_client_search_email_fragment(self):
        assert self._names("example.org") == ["Олена Коваленко"]

    def test_client_search_leaves_out_merged_records(self):
        Client.objects.filter(pk=self.kovalenko.pk).update(merged_into=self.shevchenko)
        assert self._names("коваленко") == []

    def test_client_search_empty_query_gives_recently_updated(self):
        Client.objects.filter(pk=self.shevchenko.pk).update(
            updated_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        )
        assert self._names("")[-1] == "Тарас Шевченко"
        assert len(self._names("   ")) == 4

    def test_client_search_nothing_similar_is_empty(self):
        assert self._names("Zzyzx") == []

    def test_client_search_respects_the_limit(self):
        assert len(selectors.client_search("example", limit=2)) == 2


ROWS = 20_000
# Surname stems and endings: 210 surnames, each on about 85 of the 20,000 clients,
# close to how often the commonest Ukrainian surnames occur.
_STEMS = [
    "Шевч", "Ковал", "Бондар", "Ткач", "Кравч", "Мельнич", "Олійнич", "Гонч", "Марч", "Лис", "Руд", "Петр",
    "Павл", "Клим", "Сав", "Лев", "Юрч", "Зінч", "Гнат", "Мороз", "Кост", "Захарч", "Дяч", "Бил", "Гриц",
    "Демч", "Федор", "Тимош", "Шаповал", "Мирон",
]  # fmt: skip
_ENDINGS = ["енко", "ук", "ак", "ишин", "ович", "ський", "ан"]
SURNAMES = [stem + ending for stem in _STEMS for ending in _ENDINGS]


def _twenty_thousand_rows() -> list[Client]:
    """Realistic names: the demo data's Ukrainian first names with 210 surnames, and one client in
    ten a foreigner with a Latin name."""
    consent = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    first_names = demo.UKRAINIAN_WOMEN + demo.UKRAINIAN_MEN
    foreigners = [name for name, _sex, _country in demo.FOREIGNERS]
    rows = []
    for n in range(ROWS):
        if n % 10 == 9:
            name = foreigners[n % len(foreigners)]
        else:
            name = f"{first_names[n % len(first_names)]} {SURNAMES[(n // 7) % len(SURNAMES)]}"
        phone = f"+38050{n:07d}"
        email = f"client{n}@example.com" if n % 3 else ""
        client = Client(
            full_name=name,
            phone=phone,
            email=email,
            birth_date=datetime.date(1980, 1, 1),
            sex=Client.Sex.FEMALE,
            data_consent_at=consent,
        )
        # As the services do it: from the parsed fields.
        client.search_text = search_text_for(full_name=client.full_name, phone=client.phone, email=client.email)
        rows.append(client)
    return rows


@pytest.fixture(scope="module")
def twenty_thousand_clients(django_db_setup, django_db_blocker):
    """Committed once for this module's timing tests, then removed, so that VACUUM can run: on a
    live database autovacuum has merged the trigram index's pending list and gathered statistics."""
    with django_db_blocker.unblock():
        with transaction.atomic(), connection.cursor() as cursor:
            # Inserts go to the index's pending list and are merged once by VACUUM: much faster.
            cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            Client.objects.bulk_create(_twenty_thousand_rows(), batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE clients_client")
        yield
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM clients_client")


def _plans_of_search(query: str) -> tuple[list, int, list[str]]:
    """The clients found, how many statements the search ran, and the plan of each SELECT on clients_client."""
    with CaptureQueriesContext(connection) as captured:
        found = selectors.client_search(query)
    plans = []
    with connection.cursor() as cursor:
        for sql in (q["sql"] for q in captured.captured_queries):
            if sql.startswith("SELECT") and "clients_client" in sql:
                # The captured SQL has its parameters inlined by psycopg, so it can be explained as it is.
                cursor.execute("EXPLAIN " + sql)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return found, len(captured.captured_queries), plans


# Speed is the benchmark's business (make bench); here: the right results, from the trigram index,
# in at most two statements (substring, then similar words), whatever the machine's load.
@pytest.mark.parametrize(
    ("query", "first_found", "indexed"),
    [
        ("Коваленко", "Коваленко", True),  # Cyrillic surname, about 85 matches
        ("Оксана Шевченко", "Оксана Шевченко", True),  # full name
        ("shevchenko", "Шевченко", True),  # Latin finds Cyrillic
        ("Шевчнко", "Шевченко", True),  # typo: the fuzzy step
        ("shevchnko", "Шевченко", True),  # Latin typo
        ("050 000 12", None, True),  # phone fragment: +380500001200..99
        ("client1234@", "Роман Демчук", True),  # email fragment
        ("ко", None, False),  # too short for trigrams: a sequential scan, and no fuzzy step
    ],
)
@pytest.mark.django_db
def test_client_search_on_twenty_thousand_clients_uses_the_index(twenty_thousand_clients, query, first_found, indexed):
    found, statements, plans = _plans_of_search(query)
    # Two searches at most; the fuzzy step adds its SET and a savepoint around it.
    assert statements <= 5
    if first_found is None:
        # Many equal matches: which comes first is the database collation's
        # business (C vs ICU uk-UA), so check that every result matches.
        needle = normalise_query(query)
        assert found and all(needle in client.search_text for client in found)
    else:
        assert first_found in found[0].full_name
    assert 1 <= len(plans) <= 2
    if indexed:
        assert all("clients_client_search_trgm" in plan for plan in plans), plans
        assert not any("Seq Scan" in plan for plan in plans), plans
    else:
        assert len(plans) == 1


@pytest.mark.parametrize(
    ("queryset", "text"),
    [
        (selectors.client_containing_queryset, "шевченко"),
        (selectors.client_containing_queryset, "05000012"),
        (selectors.client_similar_queryset, "шевчнко"),
    ],
)
@pytest.mark.django_db
def test_client_search_uses_the_trigram_index(twenty_thousand_clients, queryset, text):
    plan = queryset(text).explain()
    print("\n" + plan)
    assert "Bitmap Index Scan on clients_client_search_trgm" in plan
    assert "Seq Scan" not in plan
