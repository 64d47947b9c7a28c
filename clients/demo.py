"""Demo clients: 150 Ukrainians and 50 foreigners, ten of them minors with a
guardian. Deterministic (one seeded Random) and idempotent: a client whose
phone is already there is skipped, so running it again adds nothing.
Emails use the reserved example.* domains, so demo reminders reach nobody."""

import datetime
import random

import phonenumbers
from django.contrib.auth import get_user_model
from django.db import transaction

from clients import services
from clients.models import COMMON_ALLERGENS, Client, parlor_today
from clients.translit import transliterate

UKRAINIAN_WOMEN = [
    "Оксана", "Олена", "Ірина", "Наталія", "Тетяна", "Юлія", "Марія", "Анна", "Світлана", "Катерина",
    "Вікторія", "Людмила", "Галина", "Ольга", "Софія", "Дарина", "Мар'яна", "Христина", "Яна", "Євгенія",
]  # fmt: skip
UKRAINIAN_MEN = [
    "Андрій", "Олександр", "Дмитро", "Сергій", "Василь", "Микола", "Тарас", "Богдан", "Юрій", "Іван",
    "Олег", "Віктор", "Максим", "Ярослав", "Роман", "Павло", "Євген", "Григорій", "Степан", "Орест",
]  # fmt: skip
# Surnames that do not change with sex, so any of them fits any first name.
UKRAINIAN_SURNAMES = [
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Мельник", "Шевчук",
    "Коваль", "Поліщук", "Бойко", "Ткачук", "Савченко", "Руденко", "Марченко", "Лисенко", "Мороз",
    "Петренко", "Гнатюк", "Кравчук", "Левченко", "Клименко", "Павленко", "Литвиненко", "Гончаренко",
    "Лук'яненко", "Зінченко", "Дячук", "Юрченко", "Яковенко", "Ярмоленко", "Захарчук", "Білик", "Костенко",
]  # fmt: skip
# name, sex, country code of the phone (None: they use a Ukrainian number)
FOREIGNERS = [
    ("Emily Clarke", "female", "GB"), ("James Whitaker", "male", "GB"), ("Sophie Turner", "female", "GB"),
    ("Oliver Bennett", "male", "GB"), ("Charlotte Hughes", "female", "GB"), ("Harry Morgan", "male", "GB"),
    ("Amelia Brooks", "female", None), ("George Mitchell", "male", None), ("Isla Campbell", "female", "GB"),
    ("Thomas Reid", "male", None), ("Agnieszka Kowalska", "female", "PL"), ("Piotr Nowak", "male", "PL"),
    ("Katarzyna Wiśniewska", "female", "PL"), ("Tomasz Wójcik", "male", "PL"), ("Magdalena Kamińska", "female", "PL"),
    ("Marek Lewandowski", "male", None), ("Zofia Zielińska", "female", "PL"), ("Paweł Szymański", "male", "PL"),
    ("Joanna Dąbrowska", "female", None), ("Krzysztof Kozłowski", "male", "PL"), ("Anna Müller", "female", "DE"),
    ("Lukas Schmidt", "male", "DE"), ("Lena Schneider", "female", "DE"), ("Jonas Fischer", "male", "DE"),
    ("Hannah Weber", "female", "DE"), ("Felix Meyer", "male", None), ("Laura Wagner", "female", "DE"),
    ("Maximilian Becker", "male", "DE"), ("Julia Hoffmann", "female", None), ("Tobias Schulz", "male", "DE"),
    ("Sarah Johnson", "female", None), ("Michael Brown", "male", None), ("Emma Davis", "female", None),
    ("Daniel Miller", "male", None), ("Olivia Wilson", "female", None), ("Matthew Taylor", "male", None),
    ("Claire Dubois", "female", None), ("Julien Moreau", "male", None), ("Camille Laurent", "female", None),
    ("Giulia Rossi", "female", None), ("Marco Bianchi", "male", None), ("Elena Ferrari", "female", None),
    ("Lucía García", "female", None), ("Javier Martínez", "male", None), ("Eva Novák", "female", None),
    ("Jan Svoboda", "male", None), ("Ingrid Larsen", "female", None), ("Erik Johansson", "male", None),
    ("Aoife Murphy", "female", None), ("Liam O'Brien", "male", None),
]  # fmt: skip
GUARDIAN_PREFIXES = ["Мама", "Тато", "Бабуся"]
UA_MOBILE_CODES = ["50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99"]
# Mobile numbers of each country in the shape its numbering plan accepts.
FOREIGN_FORMATS = {"GB": ("+447", 9), "PL": ("+485", 8), "DE": ("+4915", 9)}
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
TOTAL_UKRAINIANS = 150
MINORS = 10


def _phone(rng: random.Random, country: str | None, taken: set[str]) -> str:
    while True:
        if country is None:
            number = f"+380{rng.choice(UA_MOBILE_CODES)}{rng.randrange(10**7):07d}"
        else:
            prefix, digits = FOREIGN_FORMATS[country]
            number = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
        if number not in taken and phonenumbers.is_valid_number(phonenumbers.parse(number)):
            taken.add(number)
            return number


def _birth_date(rng: random.Random, today: datetime.date, minor: bool) -> datetime.date:
    years = rng.randint(6, 16) if minor else rng.randint(19, 78)
    return today - datetime.timedelta(days=years * 365 + rng.randint(0, 360))


def _email(rng: random.Random, latin_name: str, index: int) -> str:
    local = ".".join(latin_name.lower().replace("'", "").split())
    local = "".join(c for c in local if c.isascii())
    return f"{local}{index}@{rng.choice(EMAIL_DOMAINS)}"


def clients_to_create(today: datetime.date) -> list[dict]:
    """The 200 demo clients as keyword arguments of services.client_create."""
    rng = random.Random(42)
    taken: set[str] = set()
    people = []
    for index in range(TOTAL_UKRAINIANS):
        sex = "female" if rng.random() < 0.6 else "male"
        first = rng.choice(UKRAINIAN_WOMEN if sex == "female" else UKRAINIAN_MEN)
        surname = rng.choice(UKRAINIAN_SURNAMES)
        people.append(
            {"full_name": f"{first} {surname}", "sex": sex, "language": "uk", "country": None, "index": index}
        )
    for index, (name, sex, country) in enumerate(FOREIGNERS, start=TOTAL_UKRAINIANS):
        people.append({"full_name": name, "sex": sex, "language": "en", "country": country, "index": index})

    minors = set(rng.sample(range(TOTAL_UKRAINIANS), MINORS))
    allergen_names = list(COMMON_ALLERGENS)
    result = []
    for person in people:
        minor = person["index"] in minors
        data = {
            "full_name": person["full_name"],
            "sex": person["sex"],
            "language": person["language"],
            "birth_date": _birth_date(rng, today, minor),
            "phone": _phone(rng, person["country"], taken),
            "email": "" if rng.random() < 0.15 else _email(rng, transliterate(person["full_name"]), person["index"]),
            "preferred_pressure": rng.choice(["", "light", "medium", "medium", "deep"]),
            "allergens": rng.sample(allergen_names, rng.choice([1, 1, 2])) if rng.random() < 0.2 else [],
            "reminder_consent": rng.random() < 0.75,
            "data_consent": True,
        }
        if minor:
            surname = person["full_name"].split()[-1]
            data["guardian_name"] = f"{rng.choice(GUARDIAN_PREFIXES)}: {rng.choice(UKRAINIAN_WOMEN)} {surname}"
            data["guardian_phone"] = _phone(rng, None, taken)
            data["guardian_consent"] = True
            data["email"] = ""
        result.append(data)
    return result


@transaction.atomic
def seed() -> None:
    """Create the demo clients that are missing."""
    registrar = get_user_model().objects.filter(username="reception").first()
    existing = {str(phone) for phone in Client.objects.values_list("phone", flat=True)}
    for data in clients_to_create(parlor_today()):
        if data["phone"] in existing:
            continue
        services.client_create(**data, created_by=registrar)
