from django.conf import settings


def test_time_zone_is_kyiv_and_aware():
    assert settings.TIME_ZONE == "Europe/Kyiv"
    assert settings.USE_TZ is True


def test_ukrainian_is_the_default_language_and_english_the_other():
    from parlor import settings as real_settings

    assert real_settings.LANGUAGE_CODE == "uk"
    assert [code for code, _name in settings.LANGUAGES] == ["uk", "en"]


def test_database_is_postgresql():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_sessions_app_has_its_own_label():
    from django.apps import apps

    assert apps.get_app_config("treatments").name == "sessions"
    assert apps.get_app_config("sessions").name == "django.contrib.sessions"
