"""Run the background scans once: reminders (plan what is missing, send what is due) and the
contraindication flags before each appointment; for operators and cron."""

from django.core.management.base import BaseCommand

from parlor.history_context import command_context
from sessions.flags import scan as flag_scan
from sessions.reminders import catch_up, outbox


class Command(BaseCommand):
    help = "Plan missing reminders, send every reminder that is due, and raise flags for upcoming appointments, once."

    def handle(self, *args, **options):
        with command_context(self):
            planned = catch_up.plan_upcoming()
            outcome = outbox.dispatch()
            flagged = flag_scan.flag_scan()
        summary = ", ".join(f"{key}={value}" for key, value in sorted(outcome.items()))
        self.stdout.write(f"planned={planned}, {summary}, flag scan={flagged}")
