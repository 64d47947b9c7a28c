import pytest
from django.apps import apps as global_apps
from django.test import Client

from parlor import roles
from parlor.accounts.policy import two_factor_required
from tests.factories import UserFactory


def _logged_in(user) -> Client:
    # A client of its own per role, so one test can compare what each role sees.
    return login_as(Client(), user)


def login_as(client: Client, user) -> Client:
    """force_login, and the second factor for those who must pass it (managers), as a person logs in."""
    client.force_login(user)
    if two_factor_required(user):
        pass_second_factor(client, user)
    return client


def pass_second_factor(client: Client, user) -> None:
    """Give the user an authenticator and mark the client's session as verified with it, as the
    two-factor page does after a right code (managers must pass it before any page)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test authenticator", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


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
def admin_client(admin_user):
    # pytest-django's, past the second factor that a superuser must pass.
    return _logged_in(admin_user)


@pytest.fixture
def reception_client(receptionist):
    return _logged_in(receptionist)


@pytest.fixture
def masseur_client(masseur_user):
    return _logged_in(masseur_user)


@pytest.fixture(autouse=True)
def _freed_times_unheard(monkeypatch):
    # The waiting list listens to the times bookings free (sessions.booking.freed) and queues a scan on
    # the broker after the commit. Only its own tests hear them (they set the listener): elsewhere nothing
    # is queued, and tests that count on_commit callbacks or broker connections count their own.
    from sessions.booking import freed

    monkeypatch.setattr(freed, "_listeners", [])


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Assertions read in English unless a test asks for Ukrainian explicitly.
    settings.LANGUAGE_CODE = "en"


# A transactional test (browser, real worker) ends with a flush that empties
# every table, including what the data migrations seeded (catalogues, roles).
# Those tests ask for `seeded_db`, which runs every RunPython of every
# migration again, in migration order; so each data migration must be
# idempotent and must work with the live app registry too.
OUR_APPS = {"parlor", "clients", "screening", "treatments"}


@pytest.fixture
def seeded_db(transactional_db):
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    done = set()
    for leaf in loader.graph.leaf_nodes():
        for key in loader.graph.forwards_plan(leaf):
            if key in done or key[0] not in OUR_APPS:
                continue
            done.add(key)
            for operation in loader.graph.nodes[key].operations:
                if isinstance(operation, RunPython):
                    operation.code(global_apps, None)
