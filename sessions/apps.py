from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    # "sessions" is django.contrib.sessions' label.
    label = "treatments"
    verbose_name = _("Sessions")
