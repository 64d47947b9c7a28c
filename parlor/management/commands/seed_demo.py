import time
from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand

from parlor.demo import DEMO_PASSWORD, DEMO_TOTP_BASE32, STAFF
from parlor.history_context import command_context


def seeders() -> list[str]:
    """Each installed app's `<app>.demo.seed`, in INSTALLED_APPS order: an app is listed after the
    apps it builds on, so its demo finds theirs. Found, not named, so parlor imports no app above it."""
    found = []
    for config in apps.get_app_configs():
        module = f"{config.name}.demo"
        if find_spec(config.name) and find_spec(module) is not None and hasattr(import_module(module), "seed"):
            found.append(f"{module}.seed")
    return found


def steps() -> list[tuple[str, Callable[[], None]]]:
    """What seeding runs, in order, with a name to report: an app's demo that lists its PARTS is run part
    by part, so a long one shows its progress."""
    result = []
    for path in seeders():
        module = import_module(path.rpartition(".")[0])
        parts = getattr(module, "PARTS", None) or [module.seed]
        result += [(f"{part.__module__}", part) for part in parts]
    return result


class Command(BaseCommand):
    help = "Load the demo data; safe to run again (it only adds what is missing)."

    def handle(self, *args, **options):
        started = time.monotonic()
        with command_context(self):
            for name, seed in steps():
                self.stdout.write(f"  {name:<34}", ending="")
                self.stdout.flush()
                step_started = time.monotonic()
                seed()
                self.stdout.write(f"{time.monotonic() - step_started:5.1f} s")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data is in place ({time.monotonic() - started:.1f} s). Logins, password {DEMO_PASSWORD}:"
            )
        )
        for username, _first, _last, role in STAFF:
            self.stdout.write(f"  {username:<10} {role}")
        self.stdout.write("The manager's two-factor code: `manage.py demo_code`, or this key in an authenticator app:")
        self.stdout.write(f"  {DEMO_TOTP_BASE32}")
