"""Races between real database connections: each work in its own thread, released together."""

import threading
from collections.abc import Callable, Sequence

from django.core.exceptions import ValidationError
from django.db import connection


def race(works: Sequence[Callable[[], object]], *, join_timeout: float = 120) -> tuple[list, list, list]:
    """Run each work() in its own thread (so on its own connection), released together by a barrier.
    Returns (results, refusals: the ValidationErrors, crashes: anything else raised)."""
    barrier = threading.Barrier(len(works))
    results, refusals, crashes = [], [], []
    guard = threading.Lock()

    def run(work):
        try:
            barrier.wait(timeout=60)
            outcome = work()
            with guard:
                results.append(outcome)
        except ValidationError as exc:
            with guard:
                refusals.append(exc)
        except Exception as exc:  # noqa: BLE001 - the tests assert there are none
            with guard:
                crashes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    return results, refusals, crashes


def race_each(count: int, work: Callable[[int], object], *, join_timeout: float = 120) -> tuple[list, list, list]:
    """race() of work(0) ... work(count - 1)."""
    return race([lambda index=index: work(index) for index in range(count)], join_timeout=join_timeout)
