"""Writes outside a request go into the change history under a name too: every Celery task runs inside
a pghistory context naming the task (the requests have HistoryMiddleware's user and URL), and so do
the management commands that write tracked rows.

Besides saying who changed a row, the context spares each tracked row a costly failure: without one,
pghistory's trigger asks for a context that is not set, an error caught in a subtransaction, and
PostgreSQL walks the statement's pending trigger events at every such abort (O(n^2) in one statement
of n rows; bench/FINDINGS.md). The task signals are connected by ParlorConfig.ready, in the worker.
"""

import pghistory

# The context each running task entered, by task id (a worker thread runs one task at a time;
# the id keeps a threaded pool's tasks apart).
_entered: dict[str, pghistory.context] = {}


def task_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    context = pghistory.context(task=getattr(task, "name", str(sender)), task_id=task_id)
    context.__enter__()
    _entered[task_id] = context


def task_finished(sender=None, task_id=None, **kwargs) -> None:
    # Sent whether the task returned or raised.
    context = _entered.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)


def command_context(command) -> pghistory.context:
    """`with command_context(self):` in a management command's handle(): its writes carry its name."""
    return pghistory.context(command=command.__module__.rsplit(".", 1)[-1])
