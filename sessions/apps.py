from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Modules that register panels on the dashboard and the client page when imported.
PANEL_MODULES = ["sessions.panels_reception", "sessions.panels_masseur", "sessions.subscriptions"]


class TreatmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    # "sessions" is django.contrib.sessions' label.
    label = "treatments"
    verbose_name = _("Sessions")

    def ready(self):
        for module in PANEL_MODULES:
            if find_spec(module) is not None:
                import_module(module)
