import pytest
import time_machine

from sessions.demo import logs as demo_logs
from sessions.models import Appointment, Course, SessionLog
from tests.sessions.test_masseur_support import NOW, make_day, past_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_seed_signs_past_sessions_with_pain_falling_and_is_idempotent():
    day = make_day(second_finding=None, planned=5)
    past = [past_appointment(day, days_ago=n) for n in (4, 3, 2, 1)]
    Appointment.objects.filter(pk=past[0].pk).update(status=Appointment.Status.COMPLETED)

    demo_logs.seed()
    demo_logs.seed()

    logs = list(SessionLog.objects.order_by("appointment__starts_at"))
    assert [log.appointment_id for log in logs] == [a.pk for a in past]
    assert all(log.status == SessionLog.Status.SIGNED for log in logs)
    befores = [log.pain_before for log in logs]
    assert befores == sorted(befores, reverse=True) and befores[0] > befores[-1]
    assert all(log.pain_after < log.pain_before for log in logs)
    assert not any("rose" in product for log in logs for product in log.products)
    assert set(Appointment.objects.filter(pk__in=[a.pk for a in past]).values_list("status", flat=True)) == {
        Appointment.Status.COMPLETED
    }
    # Today's appointment is not in the past: untouched.
    assert Appointment.objects.get(pk=day.appointment.pk).status == Appointment.Status.BOOKED
    assert Course.objects.get(pk=day.course.pk).status == Course.Status.ACTIVE
