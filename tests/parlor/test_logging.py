"""Every refused request is one line in the log: no traceback, not twice."""

import logging

import pytest

from parlor.log_filters import ForbiddenWithoutTraceback, NoForbiddenAccessLine


def _record(name: str, status_code: int, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, "Forbidden: %s", ("/x",), exc_info)
    record.status_code = status_code
    return record


def _handlers_reached(name: str) -> list[logging.Handler]:
    """The handlers a record of this logger reaches, besides pytest's own capture."""
    logger, found = logging.getLogger(name), []
    while logger is not None:
        found += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


def test_forbidden_keeps_its_line_but_not_its_traceback():
    try:
        raise PermissionError("no")
    except PermissionError as exc:
        info = (type(exc), exc, exc.__traceback__)
    forbidden, failure = _record("django.request", 403, info), _record("django.request", 500, info)
    assert ForbiddenWithoutTraceback().filter(forbidden) and ForbiddenWithoutTraceback().filter(failure)
    assert forbidden.exc_info is None
    assert failure.exc_info == info


def test_access_line_of_a_forbidden_request_is_left_to_django_request():
    assert not NoForbiddenAccessLine().filter(_record("django.server", 403))
    assert NoForbiddenAccessLine().filter(_record("django.server", 200))
    assert NoForbiddenAccessLine().filter(_record("django.server", 404))


@pytest.mark.parametrize("name", ["django.request", "django.security.csrf", "django.server", "parlor"])
def test_each_log_line_reaches_one_handler(name):
    assert len(_handlers_reached(name)) == 1


@pytest.mark.django_db
def test_a_page_refused_to_a_role_logs_one_line_without_traceback(reception_client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert reception_client.get("/manage/rooms/new/").status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.getMessage(), r.exc_info) for r in records] == [
        ("Forbidden (Permission denied): /manage/rooms/new/", None)
    ]
