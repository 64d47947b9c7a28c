"""Two-factor log-in (django-otp, TOTP with recovery codes): managers must, others may."""

import base64
import datetime
import io
import re

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor import demo, roles
from parlor.models import SecurityEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2027, 2, 1, 8, 0, tzinfo=datetime.UTC)
SETUP = reverse("parlor:two-factor-setup")
VERIFY = reverse("parlor:two-factor-verify")
CLIENTS = reverse("clients:client-list")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{totp.token():06d}"


def log_in(username: str, **extra) -> Client:
    client = Client(**extra)
    assert client.post("/login/", {"username": username, "password": "secret-pass"}).status_code == 302
    return client


@pytest.fixture
def boss(db):
    """A manager as the demo makes one: the Manager group and the admin site."""
    user = UserFactory(username="boss", role=roles.MANAGER)
    user.is_staff = True
    user.save()
    return user


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


# Managers must


def test_a_manager_without_a_device_is_sent_to_set_one_up_before_anything(boss):
    client = log_in("boss")
    for url in ["/", CLIENTS, "/admin/", reverse("parlor:account")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{SETUP}?next={url}"


def test_a_manager_sets_up_an_authenticator_and_gets_recovery_codes(boss):
    client = log_in("boss")
    page = client.get(f"{SETUP}?next=/clients/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode() and 'data-testid="totp-secret"' in page.content.decode()
    device = TOTPDevice.objects.get(user=boss, confirmed=False)

    response = client.post(f"{SETUP}?next=/clients/", {"token": code(device)})

    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())
    assert len(codes) == 10
    assert set(StaticToken.objects.filter(device__user=boss).values_list("token", flat=True)) == set(codes)
    assert 'href="/clients/"' in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(CLIENTS).status_code == 200
    kinds = list(SecurityEvent.objects.filter(user=boss).values_list("kind", flat=True).order_by("pk"))
    assert kinds == ["login", "otp-device-added", "recovery-codes"]


def test_a_wrong_code_at_set_up_confirms_nothing_and_says_why(boss):
    client = log_in("boss")
    client.get(SETUP)
    response = client.post(SETUP, {"token": "000000" if code(TOTPDevice.objects.get()) != "000000" else "111111"})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "token": ["The code is wrong or too old; type the one the app shows now."]
    }
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert client.get(CLIENTS).status_code == 302


def test_reloading_the_set_up_page_keeps_the_same_key(boss):
    client = log_in("boss")
    first = client.get(SETUP).context["secret"]
    assert client.get(SETUP).context["secret"] == first
    assert TOTPDevice.objects.filter(user=boss).count() == 1


def test_a_manager_with_a_device_types_the_code_after_the_password(boss):
    device = _device(boss)
    client = log_in("boss")
    response = client.get(CLIENTS)
    assert response["Location"] == f"{VERIFY}?next=/clients/"

    response = client.post(f"{VERIFY}?next=/clients/", {"token": code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    assert client.get(CLIENTS).status_code == 200
    assert SecurityEvent.objects.filter(kind="otp-verified", user=boss).count() == 1


def test_a_wrong_code_is_refused_beside_the_field_and_recorded(boss):
    device = _device(boss)
    client = log_in("boss", REMOTE_ADDR="192.0.2.7")
    wrong = "123456" if code(device) != "123456" else "654321"
    response = client.post(VERIFY, {"token": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "token": ["The code is wrong or was used already. Wait for the next one and try again."]
    }
    assert response.context["form"]["token"].value() == wrong
    assert client.get(CLIENTS).status_code == 302
    event = SecurityEvent.objects.get(kind="otp-failed")
    assert (event.username, event.ip_address) == ("boss", "192.0.2.7")


def test_a_code_works_once(boss, clock):
    device = _device(boss)
    first = log_in("boss")
    used = code(device)
    assert first.post(VERIFY, {"token": used}).status_code == 302
    second = log_in("boss")
    clock.shift(datetime.timedelta(seconds=5))
    assert second.post(VERIFY, {"token": used}).status_code == 200


def test_repeated_wrong_codes_are_throttled(boss, clock):
    device = _device(boss)
    client = log_in("boss")
    for _ in range(3):
        client.post(VERIFY, {"token": "000001"})
    # Right now, the right code waits out the pause the failures earned.
    assert client.post(VERIFY, {"token": code(device)}).status_code == 200
    clock.shift(datetime.timedelta(seconds=10))
    assert client.post(VERIFY, {"token": code(device)}).status_code == 302


def test_a_recovery_code_logs_in_once(boss):
    _device(boss)
    static = StaticDevice.objects.create(user=boss, name="recovery codes")
    StaticToken.objects.create(device=static, token="abcd2345")

    first = log_in("boss")
    assert first.post(VERIFY, {"token": "ABCD 2345"}).status_code == 302
    second = log_in("boss")
    assert second.post(VERIFY, {"token": "abcd2345"}).status_code == 200
    assert SecurityEvent.objects.get(kind="otp-verified").detail == "recovery code used"


def test_with_only_the_password_nobody_can_replace_the_device(boss):
    _device(boss)
    client = log_in("boss")
    response = client.get(SETUP)
    assert response["Location"] == f"{VERIFY}?next={SETUP}"
    assert client.post(SETUP, {"token": "123456"})["Location"] == f"{VERIFY}?next={SETUP}"
    assert TOTPDevice.objects.filter(user=boss).count() == 1


def test_a_superuser_must_pass_the_second_factor_too(admin_user):
    client = Client()
    client.post("/admin/login/", {"username": "admin", "password": "password"})  # pytest-django's
    assert client.get("/admin/")["Location"] == f"{SETUP}?next=/admin/"


def test_a_manager_cannot_turn_two_factor_off(manager_client, manager):
    response = manager_client.post(reverse("parlor:two-factor-remove"), follow=True)
    assert "Two-factor log-in is required for your account" in response.content.decode()
    assert TOTPDevice.objects.filter(user=manager).exists()


# Others may


def test_a_receptionist_without_a_device_goes_straight_in(receptionist):
    assert log_in("desk").get(CLIENTS).status_code == 200


def test_a_receptionist_who_set_it_up_must_use_it(receptionist):
    device = _device(receptionist)
    client = log_in("desk")
    assert client.get(CLIENTS)["Location"] == f"{VERIFY}?next=/clients/"
    client.post(VERIFY, {"token": code(device)})
    assert client.get(CLIENTS).status_code == 200


def test_a_receptionist_may_set_it_up_and_turn_it_off(receptionist, clock):
    client = log_in("desk")
    client.get(SETUP)
    client.post(SETUP, {"token": code(TOTPDevice.objects.get(user=receptionist))})
    assert "On: after the password" in client.get(reverse("parlor:account")).content.decode()

    response = client.post(reverse("parlor:two-factor-remove"), follow=True)

    assert "Two-factor log-in is off." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=receptionist).exists()
    assert not StaticDevice.objects.filter(user=receptionist).exists()
    assert log_in("desk").get(CLIENTS).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(manager_client, manager):
    first = manager_client.post(reverse("parlor:recovery-codes"))
    old = set(StaticToken.objects.values_list("token", flat=True))
    second = manager_client.post(reverse("parlor:recovery-codes"))
    new = set(StaticToken.objects.values_list("token", flat=True))

    assert first.status_code == second.status_code == 200
    assert len(old) == len(new) == 10
    assert not old & new


def test_pages_open_without_a_log_in_stay_open_before_the_second_factor(boss):
    client = log_in("boss")
    assert client.get("/healthz/").status_code in (200, 503)
    assert client.get(reverse("login")).status_code == 302  # already logged in: on to the next step


# The demo


def test_the_demo_manager_logs_in_with_the_code_demo_code_prints(client):
    demo.seed()  # the staff part of seed_demo
    out = io.StringIO()
    call_command("demo_code", stdout=out)
    printed = out.getvalue().split()[0]

    client.post("/login/", {"username": "manager", "password": "parlor-demo"})
    assert client.post(VERIFY, {"token": printed})["Location"] == "/"
    assert client.get("/").status_code == 200


def test_demo_code_refuses_a_device_that_is_not_the_demos(boss):
    _device(boss)
    with pytest.raises(CommandError, match="boss has no demo authenticator"):
        call_command("demo_code", "boss", stdout=io.StringIO())


def test_make_run_and_the_readme_show_the_demo_key_that_seed_demo_gives():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert demo.DEMO_TOTP_BASE32 in (root / "scripts" / "run.sh").read_text()
    assert demo.DEMO_TOTP_BASE32 in (root / "README.md").read_text()
    assert base64.b32encode(bytes.fromhex(demo.DEMO_TOTP_KEY)).decode() == demo.DEMO_TOTP_BASE32.replace(" ", "")


def test_a_session_from_before_two_factor_still_asks_for_the_code(receptionist):
    from parlor.accounts.policy import ENROLLED

    _device(receptionist)
    client = log_in("desk")
    session = client.session
    del session[ENROLLED]
    session.save()
    assert client.get(CLIENTS)["Location"] == f"{VERIFY}?next=/clients/"


def test_the_admin_never_shows_a_devices_key(admin_client, boss):
    device = _device(boss)
    page = admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in page
    assert "qrcode" not in page
    assert admin_client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
