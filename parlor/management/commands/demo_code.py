import time

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the demo manager's current two-factor code (only for the demo's published key)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="manager")

    def handle(self, *args, username, **options):
        # Only the published demo key: the command must never reveal a real device's codes.
        device = TOTPDevice.objects.filter(user__username=username, key=DEMO_TOTP_KEY, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator (seed_demo makes one on a demo database)")
        totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
        left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(f"{totp.token():0{device.digits}d}  (for the next {left} s)")
