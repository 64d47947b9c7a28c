"""`make bench` (scripts/bench.sh runs `python -m bench`): generate the world into its own database,
time every operation and its SQL floor, load the pages through gunicorn, write var/bench/<time>.json
and print the tables. Settings from the environment (bench/README.md):

    BENCH_SCALE=0.1          1 = the issue's sizes, 3 = a chain of three parlors
    BENCH_PROFILE=1          also a pyinstrument profile of each operation (var/bench/<time>-profiles/)
    BENCH_ONLY=key,key       only these operations (keys as in the JSON); BENCH_ONLY=none: none
    BENCH_HTTP_SECONDS=15    per page under load; 0 skips the gunicorn part
    BENCH_REPEAT=1           multiplies every operation's number of runs
    BENCH_KEEP_DB=1          keep the bench database afterwards (to profile or look around)
    BENCH_REUSE_DB=1         use the kept database instead of generating again (same day only)
"""

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def say(message: str) -> None:
    print(f"bench: {message}", flush=True)


def start_smtp() -> tuple[subprocess.Popen, int]:
    """aiosmtpd's Sink on loopback: accepts every message and keeps none."""
    from bench.loadgen import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-u", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("bench: the SMTP sink did not start")


def _git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    scale = float(os.environ.get("BENCH_SCALE", "0.1"))
    only = {k.strip() for k in os.environ.get("BENCH_ONLY", "").split(",") if k.strip()}
    http_seconds = float(os.environ.get("BENCH_HTTP_SECONDS", "15"))
    repeat = float(os.environ.get("BENCH_REPEAT", "1"))
    keep, reuse, do_profile = _flag("BENCH_KEEP_DB"), _flag("BENCH_REUSE_DB"), _flag("BENCH_PROFILE")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    smtp, smtp_port = start_smtp()
    os.environ["BENCH_SMTP_PORT"] = str(smtp_port)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import checks, db, generate, measure, operations, probes, report
    from parlor import gunicorn_conf

    result: dict = {
        "meta": {
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "scale": scale,
            "commit": _git_commit(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "cpus": os.cpu_count(),
            "load_at_start": [round(x, 2) for x in os.getloadavg()],
            "database": db.name(),
            "smtp": "aiosmtpd Sink on loopback (Django's SMTP backend)",
        },
        "world": {},
        "operations": [],
        "http": {},
    }
    world_file = OUT / f"world-{db.name()}.json"
    try:
        if reuse and db.exists() and world_file.exists():
            say(f"reusing the database {db.name()} ({world_file.name})")
            result["world"] = json.loads(world_file.read_text())
        else:
            say(f"creating the database {db.recreate()} and migrating")
            migrate_started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            migrate_seconds = time.perf_counter() - migrate_started
            world = generate.generate(scale=scale, progress=say)
            result["world"] = {
                **dataclasses.asdict(world),
                "now": world.now.isoformat(),
                "migrate_seconds": round(migrate_seconds, 1),
            }
            say(f"generated in {world.total_seconds:.0f} s; measuring what pghistory's trigger costs")
            result["world"]["trigger_cost_us_per_row"] = probes.trigger_cost()
            world_file.write_text(json.dumps(result["world"], indent=1, default=str))
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["meta"]["postgresql"] = cursor.fetchone()[0]

        say("checking the world (a sample of verdicts and logs, every overlap, constraint and trigger)")
        checked, verdict_problems = checks.verdict_problems(sample=400)
        logs_checked, log_problems = checks.log_problems(sample=200)
        result["world"]["checks"] = {
            "verdicts_checked": checked,
            "verdict_problems": verdict_problems[:10],
            "logs_checked": logs_checked,
            "log_problems": log_problems[:10],
            "overlaps": checks.overlaps(),
            **checks.constraints_and_triggers(),
        }

        subjects = operations.pick_subjects(scale=scale, regular_id=result["world"]["regular_ids"][0])
        result["subjects"] = operations.describe(subjects)
        measure.install_counter()
        # As a web worker does once the application is loaded (parlor/gunicorn_conf.py): what exists by now
        # (Django, the apps, and here the generator's plan too) is left out of the full garbage collections
        # the operations meet. Without it their p95 and p99 are mostly those collections.
        gunicorn_conf.post_worker_init(worker=None)
        profiles = OUT / f"{stamp}-profiles"
        for op in operations.operations(subjects):
            if "none" in only or (only and op.key not in only):
                continue
            figures = measure.measure(op, scale_repeat=repeat)
            result["operations"].append(figures)
            say(report.line(figures))
            if do_profile:
                measure.profile(op, profiles)
        if do_profile:
            result["meta"]["profiles"] = str(profiles.relative_to(ROOT))

        if http_seconds > 0:
            result["http"] = http_part(subjects, seconds=http_seconds)
    finally:
        smtp.terminate()
        result["meta"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
        result["meta"]["seconds"] = round(time.perf_counter() - started, 1)
        path = OUT / f"{stamp}.json"
        path.write_text(json.dumps(result, indent=1, default=str, ensure_ascii=False))
        if not keep:
            from bench import db as bench_db

            bench_db.drop()
            world_file.unlink(missing_ok=True)
    print(report.table(result))
    say(f"written {path.relative_to(ROOT)}; {result['meta']['seconds']:.0f} s in all")
    return 0


def http_part(subjects, *, seconds: float) -> dict:
    from django.conf import settings

    from bench.loadgen import Gunicorn, Page, form, load, request

    reception = subjects.pages["reception"].cookies[settings.SESSION_COOKIE_NAME].value
    csrf = "b" * 32
    cookie = f"{settings.SESSION_COOKIE_NAME}={reception}; {settings.CSRF_COOKIE_NAME}={csrf}"
    args = subjects.course["propose"]
    body, content_type = form(
        {
            "csrfmiddlewaretoken": csrf,
            "client": args["client"].pk,
            "massage_type": args["massage_type"].pk,
            "indication": "back_pain",
            "planned_sessions": 10,
            "cadence": "daily",
            "preferred_masseur": args["masseur"].pk,
            "preferred_time": "10:00",
            "start_date": args["start_date"].isoformat(),
            "request_key": "6f1c2b8e-0000-4000-8000-000000000015",
            "action": "propose",
        }
    )
    tomorrow = subjects.tomorrow.isoformat()
    pages = [
        Page("healthz", "/healthz/ (anonymous; database and Redis ping)", "/healthz/"),
        Page(
            "day_page_30",
            "day calendar page (every masseur)",
            f"/sessions/calendar/{tomorrow}/",
            cookie,
            expect=b"calendar",
        ),
        Page(
            "week_page_1",
            "week page, 1 masseur",
            f"/sessions/calendar/week/{tomorrow}/?masseur={subjects.busy.pk}",
            cookie,
            expect=b"calendar",
        ),
        Page(
            "course_propose_page",
            "availability: course proposal (POST, 10 sessions)",
            "/sessions/courses/new/",
            cookie,
            method="POST",
            body=body,
            content_type=content_type,
            expect=b"s-TOTAL_FORMS",
        ),
    ]
    out = {"workers": 2, "users": 8, "seconds_per_page": seconds, "pages": [], "memory_mb": {}}
    say("starting gunicorn (2 workers)")
    with Gunicorn(workers=2) as server:
        for page in pages:
            for _ in range(4):  # both workers warm: imports, templates, translations
                status, content = request(server.port, page)
                if status != 200 or (page.expect and page.expect not in content):
                    raise RuntimeError(f"{page.method} {page.path}: {status} {content[:300]!r}")
            figures = load(server.port, page, users=8, seconds=seconds)
            figures["memory_mb"] = server.memory()
            out["pages"].append(figures)
            say(f"{page.label}: {figures['rps']} requests/s, p50 {figures['p50_ms']} ms, errors {figures['errors']}")
        out["memory_mb"] = server.memory()
    return out


if __name__ == "__main__":
    sys.exit(main())
