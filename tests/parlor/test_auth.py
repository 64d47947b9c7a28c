import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/", "/manage/rooms/", "/manage/massage-types/new/", "/manage/time-off/"],
)
def test_every_page_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_login_page_is_open(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_with_good_password_lands_on_dashboard(client, receptionist):
    response = client.post(reverse("login"), {"username": "desk", "password": "secret-pass"})
    assert response.status_code == 302
    assert response["Location"] == reverse("parlor:dashboard")


def test_login_with_bad_password_keeps_username_and_says_why(client, receptionist):
    response = client.post(reverse("login"), {"username": "desk", "password": "wrong"})
    assert response.status_code == 200
    assert b'value="desk"' in response.content
    assert b"Please enter a correct username and password" in response.content


def test_logout_ends_the_session(reception_client):
    response = reception_client.post(reverse("logout"))
    assert response.status_code == 302
    assert reception_client.get("/").status_code == 302
