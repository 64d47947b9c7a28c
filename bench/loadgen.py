"""Requests per second through gunicorn (2 sync workers) on loopback, under a bounded load: 8 users,
each sending its next request when the last one answered, for a fixed time.

The load generator is a few threads with http.client in the bench's own process: small next to the
pages it measures (a page takes tens to hundreds of milliseconds of a worker; a request costs the
client well under a millisecond), but it shares the machine's two cores with the workers and
PostgreSQL, as `wrk` would.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench.measure import percentile

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Page:
    key: str
    label: str
    path: str
    cookie: str = ""
    method: str = "GET"
    body: bytes = b""
    content_type: str = ""
    expect: bytes = b""  # a fragment every good answer contains


class Gunicorn:
    """gunicorn with the bench settings; stopped (the whole process group) on exit."""

    def __init__(self, *, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings", PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "python:parlor.gunicorn_conf",
                "parlor.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _body = request(self.port, Page("healthz", "", "/healthz/"))
                if status == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz/ within 60 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return False

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def memory(self) -> dict:
        """Each worker's peak (VmHWM) and current (VmRSS) resident memory, in MB."""
        result = {}
        for pid in self.worker_pids():
            fields = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    fields[name] = round(int(value.split()[0]) / 1024, 1)
            result[pid] = fields
        return result


def request(port: int, page: Page, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": "127.0.0.1"}
    if page.cookie:
        headers["Cookie"] = page.cookie
    if page.method == "POST":
        headers["Content-Type"] = page.content_type
    conn.request(page.method, page.path, body=page.body or None, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if connection is None:
        conn.close()
    return response.status, body


def load(port: int, page: Page, *, users: int = 8, seconds: float = 15.0, max_requests: int = 5000) -> dict:
    """`users` threads for `seconds` (or max_requests in all); latencies, errors and requests per second."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    count = [0]

    def user():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < stop:
            with lock:
                if count[0] >= max_requests:
                    return
                count[0] += 1
            started = time.perf_counter()
            try:
                status, body = request(port, page, conn)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    errors.append(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if status != 200 or (page.expect and page.expect not in body):
                    errors.append(str(status))
                else:
                    latencies.append(elapsed * 1000)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=user) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "key": page.key,
        "label": page.label,
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "rps": round(len(latencies) / elapsed, 2) if elapsed else None,
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
    }


def form(data: dict) -> tuple[bytes, str]:
    return urllib.parse.urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"
