"""The calls the front desk has to make (clients who could not book online), on the dashboard.
Imported at start-up by sessions/apps.py."""

import parlor.dashboard
from sessions.models import CallRequest

SHOWN = 20


def calls_panel(request, today):
    """Calls not made yet, oldest first; what to do, never why. One query."""
    if not request.user.has_perm("treatments.view_callrequest"):
        return None
    calls = list(
        CallRequest.objects.filter(done_at__isnull=True)
        .select_related("client", "massage_type")
        .order_by("created_at", "pk")[:SHOWN]
    )
    return "sessions/_dashboard_calls.html", {
        "calls": calls,
        "can_mark": request.user.has_perm("treatments.change_callrequest"),
    }


parlor.dashboard.register(calls_panel)
