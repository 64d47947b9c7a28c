"""The masseur's panels: "My day" on the dashboard, and a link to the client's full history on
the client page. Imported at start-up by sessions/apps.py."""

from django.utils import timezone

import clients.panels
import parlor.dashboard
from screening.access import can_view_health_record
from sessions.care import myday


def my_day_panel(request, today):
    """Today's appointments of the logged-in masseur; nothing for users without a masseur profile."""
    me = myday.masseur_of(request.user)
    if me is None or not request.user.has_perm("treatments.add_dayofcheck"):
        return None
    return "sessions/_masseur_myday_panel.html", {"rows": myday.my_day(masseur=me, day=today or timezone.localdate())}


def history_panel(request, client):
    """A link to the client's history, for those who may see the health record."""
    if not can_view_health_record(request.user, client):
        return None
    return "sessions/_masseur_history_link.html", {}


parlor.dashboard.register(my_day_panel)
clients.panels.register(history_panel)
