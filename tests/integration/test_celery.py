import uuid

import pytest

from parlor.tasks import ping

pytestmark = pytest.mark.integration


def test_real_worker_runs_a_task_and_returns_its_result(celery_worker_process):
    token = uuid.uuid4().hex
    result = ping.delay(token)
    assert result.get(timeout=30) == f"pong:{token}"
