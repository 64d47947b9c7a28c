"""Being logged in costs no permission query after the first page, and no session query while Redis
holds the session (parlor/accounts/backends.py, SESSION_ENGINE cached_db); a change takes effect at once."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from parlor import roles

pytestmark = pytest.mark.django_db


def _fresh(user):
    # A new object, as each request loads the user: nothing held on the instance.
    return get_user_model().objects.get(pk=user.pk)


def _a_reception_permission() -> str:
    permission = Group.objects.get(name=roles.RECEPTIONIST).permissions.select_related("content_type").first()
    return f"{permission.content_type.app_label}.{permission.codename}"


def test_permissions_are_read_once_then_from_the_cache(receptionist, django_assert_num_queries):
    perm = _a_reception_permission()
    assert _fresh(receptionist).has_perm(perm)
    user = _fresh(receptionist)

    with django_assert_num_queries(0):
        assert user.has_perm(perm)
        assert not user.has_perm("auth.delete_user")
        assert user.has_module_perms("clients")


def test_pages_read_neither_session_nor_permissions_the_first_too(reception_client):
    # The log-in (force_login sends the same signal) put both in the cache.
    url = reverse("parlor:dashboard")

    with CaptureQueriesContext(connection) as captured:
        assert reception_client.get(url).status_code == 200
        assert reception_client.get(url).status_code == 200

    tables = " ".join(q["sql"] for q in captured.captured_queries)
    assert '"django_session"' not in tables
    assert '"auth_permission"' not in tables


def test_a_permission_removed_from_the_group_takes_effect_at_once(receptionist):
    perm = _a_reception_permission()
    assert _fresh(receptionist).has_perm(perm)
    app_label, codename = perm.split(".")

    Group.objects.get(name=roles.RECEPTIONIST).permissions.remove(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )

    assert not _fresh(receptionist).has_perm(perm)


def test_leaving_the_group_takes_effect_at_once_from_either_side(receptionist, masseur_user):
    perm = _a_reception_permission()
    group = Group.objects.get(name=roles.RECEPTIONIST)
    masseur_user.groups.add(group)
    assert _fresh(receptionist).has_perm(perm) and _fresh(masseur_user).has_perm(perm)

    receptionist.groups.remove(group)
    group.user_set.remove(masseur_user)

    assert not _fresh(receptionist).has_perm(perm)
    assert not _fresh(masseur_user).has_perm(perm)


def test_a_permission_given_to_the_user_or_superuser_flag_takes_effect_at_once(receptionist):
    assert not _fresh(receptionist).has_perm("auth.delete_user")

    receptionist.user_permissions.add(Permission.objects.get(content_type__app_label="auth", codename="delete_user"))
    assert _fresh(receptionist).has_perm("auth.delete_user")

    receptionist.user_permissions.clear()
    assert not _fresh(receptionist).has_perm("auth.delete_user")

    receptionist.is_superuser = True
    receptionist.save()
    assert _fresh(receptionist).has_perm("auth.delete_user")


def test_a_session_survives_a_flushed_cache(reception_client):
    url = reverse("parlor:dashboard")
    assert reception_client.get(url).status_code == 200

    cache.clear()  # as a Redis restarted empty
    response = reception_client.get(url)

    # Read back from the database: still logged in, same user.
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "desk"


def test_with_redis_down_pages_and_the_log_out_work_from_the_database(reception_client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    url = reverse("parlor:dashboard")

    assert reception_client.get(url).status_code == 200
    assert reception_client.post(reverse("logout")).status_code == 302
    assert reception_client.get(url).status_code == 302  # to the log-in page: the session ended
