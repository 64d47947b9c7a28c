import importlib.util

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = _("Screening")

    def ready(self):
        # The clients app's own pages (allergens, notes, the trail) ask screening's rule through this hook.
        from clients import access
        from screening.access import can_view_health_record

        access.register(can_view_health_record)
        # The client's rights: screening's sections of the export and its part of an erasure.
        from clients import erasure, export
        from screening import privacy

        export.register(privacy.export_sections)
        erasure.register(privacy.erase)
        # clients.panels comes with the client pages; until then there is nothing to join.
        if importlib.util.find_spec("clients.panels") is None:
            return
        from clients import panels
        from screening.panels import client_panel

        panels.register(client_panel)
