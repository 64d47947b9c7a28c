"""Small builders shared by the clients tests."""

import datetime

from clients import services
from clients.models import Client

ADULT_BIRTH_DATE = datetime.date(1985, 5, 17)


def client_data(**overrides) -> dict:
    data = {
        "full_name": "Оксана Шевченко",
        "phone": "+380671234567",
        "email": "oksana@example.com",
        "birth_date": ADULT_BIRTH_DATE,
        "sex": Client.Sex.FEMALE,
        "language": Client.Language.UKRAINIAN,
        "data_consent": True,
    }
    data.update(overrides)
    return data


def make_client(created_by=None, **overrides) -> Client:
    """A client created the way the app creates them, so search_text is filled."""
    return services.client_create(**client_data(**overrides), created_by=created_by)
