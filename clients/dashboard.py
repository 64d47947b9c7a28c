"""The manager's dashboard panel of clients who withdrew consent to data processing and await
erasure: the withdrawal starts the erasure, the manager finishes it. Registered from ClientsConfig.ready()."""

from clients.models import Client
from parlor import dashboard

SHOWN = 20


@dashboard.register
def erasure_panel(request, today):
    """For whoever may erase; nothing when no client waits."""
    if not request.user.has_perm("clients.erase_client"):
        return None
    waiting = list(
        Client.objects.filter(data_consent_withdrawn_at__isnull=False, erased_at__isnull=True).order_by(
            "data_consent_withdrawn_at", "pk"
        )[:SHOWN]
    )
    if not waiting:
        return None
    return "clients/_dashboard_erasures.html", {"clients": waiting}
