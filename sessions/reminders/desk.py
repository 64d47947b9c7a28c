"""What the front desk sends by hand from a client's page: the questionnaire's link. An outbox row like
every other email (sessions.reminders.outbox sends it, retries it, and the reminders list shows it)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clients.models import Client
from sessions.models import Reminder
from sessions.reminders import planning, tasks


def screening_link_refusal(client: Client) -> str:
    """Why the link cannot go to this client, or "" when it can: the same rules as every reminder."""
    if client.erased_at or client.merged_into_id:
        return _("This record is closed.")
    if not client.email:
        return _("The client has no email address: add it on the client's page first.")
    if not client.reminder_consent:
        return _("The client has not agreed to emails: ask, and tick it on the client's page first.")
    return ""


def screening_link_send(*, client: Client) -> Reminder:
    """Queue the questionnaire's link to the client now; twice within a minute sends it once."""
    refusal = screening_link_refusal(client)
    if refusal:
        raise ValidationError(refusal)
    with transaction.atomic():
        reminders = planning.plan_screening_link(client)
        tasks.send_on_commit(reminders)
    return reminders[0]
