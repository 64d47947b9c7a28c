from importlib import import_module

import pytest
from django.apps import apps as global_apps
from django.test import Client

from parlor import roles
from tests.factories import UserFactory


def _logged_in(user) -> Client:
    # A client of its own per role, so one test can compare what each role sees.
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager(db):
    user = UserFactory(username="mgr", role=roles.MANAGER)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def receptionist(db):
    return UserFactory(username="desk", role=roles.RECEPTIONIST)


@pytest.fixture
def masseur_user(db):
    return UserFactory(username="hands", role=roles.MASSEUR)


@pytest.fixture
def manager_client(manager):
    return _logged_in(manager)


@pytest.fixture
def reception_client(receptionist):
    return _logged_in(receptionist)


@pytest.fixture
def masseur_client(masseur_user):
    return _logged_in(masseur_user)


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Assertions read in English unless a test asks for Ukrainian explicitly.
    settings.LANGUAGE_CODE = "en"


# The data migrations that seed catalogues and roles. A transactional test
# (browser, real worker) ends with a flush that empties every table, so those
# tests ask for `seeded_db`, which runs these again; each one is idempotent.
DATA_MIGRATIONS = [
    ("parlor.migrations.0003_seed_massage_types", "seed"),
    ("parlor.migrations.0004_roles", "create_roles"),
]


@pytest.fixture
def seeded_db(transactional_db):
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(global_apps, None)
