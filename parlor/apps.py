from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParlorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "parlor"
    verbose_name = _("The parlor")

    def ready(self):
        # Log-ins, log-outs, failures and lock-outs become security events.
        from parlor.accounts import receivers  # noqa: F401
