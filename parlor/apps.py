from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParlorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "parlor"
    verbose_name = _("The parlor")

    def ready(self):
        # Log-ins, log-outs, failures and lock-outs become security events.
        from celery.signals import task_postrun, task_prerun
        from django.db.backends.signals import connection_created

        from parlor import db_setup, history_context
        from parlor.accounts import receivers  # noqa: F401

        connection_created.connect(db_setup.connection_setup, dispatch_uid="parlor-connection-setup")
        task_prerun.connect(history_context.task_started, dispatch_uid="parlor-task-history-context")
        task_postrun.connect(history_context.task_finished, dispatch_uid="parlor-task-history-context")
