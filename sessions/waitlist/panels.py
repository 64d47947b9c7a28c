"""The waiting list on the reception dashboard and on the client card. Imported at start-up by
sessions/apps.py."""

import clients.panels
import parlor.dashboard
from sessions.waitlist import selectors


def waitlist_board(request, today):
    """Who waits, the offers in flight and what the list filled this week: for the front desk."""
    if not request.user.has_perm("treatments.view_waitlistentry"):
        return None
    return "sessions/_dashboard_waitlist.html", {
        "board": selectors.board(),
        "can_prioritise": request.user.has_perm("treatments.prioritise_waitlistentry"),
    }


def waitlist_card(request, client):
    """The client's waiting-list entries, and putting them on the list."""
    user = request.user
    if not user.has_perm("treatments.view_waitlistentry"):
        return None
    return "sessions/_client_waitlist.html", {
        "entries": selectors.entries_of(client=client),
        "can_add": user.has_perm("treatments.add_waitlistentry") and not client.erased_at,
        "can_cancel": user.has_perm("treatments.change_waitlistentry"),
        "can_prioritise": user.has_perm("treatments.prioritise_waitlistentry"),
    }


parlor.dashboard.register(waitlist_board)
clients.panels.register(waitlist_card)
