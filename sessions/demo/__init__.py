"""The sessions demo: appointments and courses, then signed logs of the past ones, then reminders
in every state, then each kind of hold with its reason. seed_demo calls seed() after the parlor,
clients and screening demos."""

from sessions.demo import appointments, holds, logs, reminders

PARTS = [appointments.seed, logs.seed, reminders.seed, holds.seed]


def seed() -> None:
    for part in PARTS:
        part()
