from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clients"
    verbose_name = _("Clients")

    def ready(self):
        # Registers the dashboard panel of clients awaiting erasure.
        from clients import dashboard  # noqa: F401
