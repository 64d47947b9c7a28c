from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from parlor.demo import DEMO_PASSWORD, STAFF

# Each app's demo seeder, in dependency order; later apps build on earlier ones.
SEEDERS = [
    "parlor.demo.seed",
    "clients.demo.seed",
    "screening.demo.seed",
    "sessions.demo.seed",
    "sessions.demo_logs.seed",
    "sessions.demo_reminders.seed",
]


class Command(BaseCommand):
    help = "Load the demo data; safe to run again (it only adds what is missing)."

    def handle(self, *args, **options):
        for path in SEEDERS:
            import_string(path)()
        self.stdout.write(self.style.SUCCESS(f"Demo data is in place. Logins (password {DEMO_PASSWORD}):"))
        for username, _first, _last, role in STAFF:
            self.stdout.write(f"  {username:<10} {role}")
