"""Client-link and password-reset tokens never reach a log: Django's request logs and gunicorn's
access log (docker-compose's web service) write [redacted] in their place."""

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from parlor.logredact import RedactTokensFilter, redact
from tests.parlor.pagewalk import every_route

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "eyJhIjoxMiwicyI6IjIwMjctMDMtMDEifQ:1uVaBc:SeCrEtSiGnAtUrE-xyz"


def _token_routes():
    return [route for route in every_route() if "token" in route.kwargs]


def _url(route, token=TOKEN) -> str:
    kwargs = dict.fromkeys(route.kwargs, "MTI")
    kwargs["token"] = token
    return reverse(route.name, kwargs=kwargs)


def test_every_route_with_a_token_is_redacted():
    routes = _token_routes()
    assert {route.name for route in routes} >= {
        "sessions:link-confirm",
        "sessions:link-cancel",
        "sessions:link-screening",
        "sessions:link-screening-thanks",
        "parlor:password-reset-confirm",
    }
    for route in routes:
        url = _url(route)
        line = f'GET {url}?lang=uk HTTP/1.1" 200 "https://parlor.example{url}"'
        assert TOKEN not in redact(line), route.name
        assert redact(line).count("[redacted]") == 2, route.name


def test_redaction_keeps_the_rest_of_the_line():
    assert redact("Not Found: /sessions/r/abc:def/confirm/") == "Not Found: /sessions/r/[redacted]/confirm/"
    assert redact("/account/reset/MTI/set-password/") == "/account/reset/MTI/set-password/"
    assert redact("/sessions/calendar/2027-03-01/") == "/sessions/calendar/2027-03-01/"


def _capturing(handler: logging.Handler):
    stream = io.StringIO()
    old = handler.setStream(stream)
    return stream, old


def _handler_with_filter(logger: logging.Logger) -> logging.StreamHandler:
    return next(h for h in logger.handlers if any(isinstance(f, RedactTokensFilter) for f in h.filters))


@pytest.mark.django_db
def test_djangos_not_found_line_has_no_token(client):
    handler = _handler_with_filter(logging.getLogger())
    stream, old = _capturing(handler)
    try:
        response = client.get(f"/sessions/r/{TOKEN}/nowhere/")
    finally:
        handler.setStream(old)
    assert response.status_code == 404
    assert stream.getvalue() == "Not Found: /sessions/r/[redacted]/nowhere/\n"


def test_runservers_request_lines_have_no_token():
    handler = _handler_with_filter(logging.getLogger("django.server"))
    stream, old = _capturing(handler)
    try:
        logging.getLogger("django.server").info('"%s" %s %s', f"GET /sessions/s/{TOKEN}/ HTTP/1.1", "200", "512")
    finally:
        handler.setStream(old)
    assert TOKEN not in stream.getvalue()
    assert '"GET /sessions/s/[redacted]/ HTTP/1.1" 200 512' in stream.getvalue()


def test_compose_runs_gunicorn_with_the_redacting_logger_behind_one_proxy():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert "--logger-class=parlor.logredact.RedactingGunicornLogger" in web["command"]
    assert "--access-logfile=-" in web["command"]
    assert web["environment"]["PROXY_COUNT"] == "${PROXY_COUNT:-1}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"--logger-class", "parlor.logredact.RedactingGunicornLogger"' in dockerfile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorns_access_log_has_no_token(tmp_path):
    # A real gunicorn with the logger docker-compose gives it; anonymous pages need no database.
    port, log = _free_port(), tmp_path / "access.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "parlor.settings",
        "DEBUG": "true",
        "SECRET_KEY": "z" * 60,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config=python:parlor.gunicorn_conf",
            "parlor.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            f"--access-logfile={log}",
            "--logger-class=parlor.logredact.RedactingGunicornLogger",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.1)
        confirm = f"/sessions/r/{TOKEN}/confirm/"
        _get(f"{base}{confirm}?utm=mail", Referer=f"{base}/sessions/s/{TOKEN}/")
        _get(f"{base}/account/reset/MTI/{TOKEN}/")
        for _ in range(100):  # gunicorn writes the line after the response
            if log.exists() and log.read_text().count("\n") >= 2:
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert TOKEN not in text
    assert '"GET /sessions/r/[redacted]/confirm/?utm=mail HTTP/1.1"' in text
    assert f'"{base}/sessions/s/[redacted]/"' in text
    assert '"GET /account/reset/MTI/[redacted]/ HTTP/1.1"' in text
