"""gunicorn's settings for Parlor's web workers (`gunicorn -c python:parlor.gunicorn_conf ...`).

Why: a worker holds a few hundred thousand objects made at start (Django, the URLconf, the apps,
the translations) that live as long as it does, and every full garbage collection walked all of
them: a page that makes many objects (the day calendar's few thousand) met one every few requests
and took twice as long then (day page in process: p95 103 ms against a p50 of 54). Frozen after the
application is loaded, they are left out of every collection (p95 64 ms).
"""

import gc


def post_worker_init(worker) -> None:
    gc.collect()
    gc.freeze()
