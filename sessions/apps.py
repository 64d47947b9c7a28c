from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    # "sessions" is django.contrib.sessions' label.
    label = "treatments"
    verbose_name = _("Sessions")

    def ready(self):
        # Importing these registers the dashboard and client-page panels and the listeners to
        # screening events; nothing else imports them. privacy: sessions' sections of a client's
        # export and its part of an erasure (clients' rights).
        from clients import erasure, export
        from sessions.booking import panels as booking_panels  # noqa: F401
        from sessions.care import panels as care_panels  # noqa: F401
        from sessions.care import privacy
        from sessions.flags import subscriptions  # noqa: F401
        from sessions.online import panels as online_panels  # noqa: F401
        from sessions.online import privacy as online_privacy
        from sessions.waitlist import panels as waitlist_panels  # noqa: F401
        from sessions.waitlist import privacy as waitlist_privacy
        from sessions.waitlist import tasks as waitlist_tasks  # noqa: F401 - listens to freed times

        export.register(privacy.export_sections)
        erasure.register(privacy.erase)
        export.register(online_privacy.export_sections)
        erasure.register(online_privacy.erase)
        export.register(waitlist_privacy.export_sections)
        erasure.register(waitlist_privacy.erase)
