from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParlorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "parlor"
    verbose_name = _("The parlor")

    def ready(self):
        from celery.signals import task_postrun, task_prerun
        from django.db.backends.signals import connection_created

        from parlor import db_setup, history_context

        # receivers: log-ins, log-outs, failures and lock-outs become security events.
        from parlor.accounts import backends, receivers  # noqa: F401

        # Cached permission sets are dropped when a user's groups or a group's permissions change.
        backends.connect_signals()
        # The C timestamp loader and pgtrigger.ignore on every connection.
        connection_created.connect(db_setup.connection_setup, dispatch_uid="parlor-connection-setup")
        # A task's writes go into the change history under its name.
        task_prerun.connect(history_context.task_started, dispatch_uid="parlor-task-history-context")
        task_postrun.connect(history_context.task_finished, dispatch_uid="parlor-task-history-context")
