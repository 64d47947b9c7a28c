"""The screening panel on the client page (registered with clients.panels)."""

from django.utils import timezone

from screening import selectors
from screening.access import can_view_health_record, can_write_health_record

HISTORY_ON_PANEL = 5


def client_panel(request, client):
    """The verdict badge for everyone who works with screenings; the details only for health-record viewers."""
    user = request.user
    can_add_screening = user.has_perm("screening.add_screening")
    can_view_clearances = user.has_perm("screening.view_clearance")
    can_view_health = can_view_health_record(user, client)
    if not (can_add_screening or can_view_clearances or can_view_health):
        return None
    today = timezone.localdate()
    # A masseur records only for the clients booked with them: no button that leads to a refusal.
    may_write = can_view_health or can_write_health_record(user, client)
    context = {
        "client": client,
        "verdict": selectors.verdict_for(client=client, massage_type=None, day=today),
        "can_view_health": can_view_health,
        "can_add_screening": can_add_screening and may_write,
        "can_add_clearance": user.has_perm("screening.add_clearance") and may_write,
        "can_view_clearances": can_view_clearances,
        "clearances": [(c, c.is_valid_on(today)) for c in selectors.clearances_of(client=client)]
        if can_view_clearances
        else [],
    }
    if can_view_health:
        context["screenings"] = selectors.screenings_of(client=client, limit=HISTORY_ON_PANEL)
        context["screening_total"] = selectors.screening_count(client=client)
    return "screening/_client_panel.html", context
