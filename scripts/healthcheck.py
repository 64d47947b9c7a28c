"""Container health checks for docker-compose.yml (standard library only).

    python scripts/healthcheck.py web    /healthz/ answers 200
    python scripts/healthcheck.py beat   beat keeps writing its schedule file

Exit 0 when healthy, 1 (with one line on stderr) otherwise.
"""

import glob
import http.client
import os
import sys
import time


def web() -> str | None:
    # Django rejects a Host it doesn't know, and with SECURE_SSL_REDIRECT it
    # redirects plain HTTP: so ask as the proxy would, for the site's own
    # host over HTTPS (needs SECURE_PROXY_SSL_HEADER=true, as in compose).
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h and h != "*"), "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("WEB_INTERNAL_PORT", "8000")), timeout=5)
    try:
        conn.request("GET", "/healthz/", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        body = response.read(500).decode("utf-8", "replace")
    except OSError as exc:
        return f"web: {exc}"
    finally:
        conn.close()
    return None if response.status == 200 else f"web: /healthz/ answered {response.status}: {body}"


def beat() -> str | None:
    # beat rewrites its schedule at least every few minutes (and at start),
    # so a stale file means a beat that is stuck or gone.
    max_age = int(os.environ.get("BEAT_MAX_AGE", "600"))
    files = glob.glob("var/celerybeat-schedule*")
    if not files:
        return "beat: no var/celerybeat-schedule yet"
    age = time.time() - max(os.path.getmtime(f) for f in files)
    return None if age < max_age else f"beat: schedule not written for {age:.0f} s"


def main() -> int:
    checks = {"web": web, "beat": beat}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        print(__doc__, file=sys.stderr)
        return 2
    problem = checks[sys.argv[1]]()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
