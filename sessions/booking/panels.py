"""The reception panel on the dashboard: today's appointments, the ones on
hold, and courses with sessions still to book."""

from parlor import dashboard
from sessions.booking import calendar


@dashboard.register
def reception_panel(request, today):
    """For whoever books (reception, manager); a masseur, who may only view
    appointments, has a panel of their own day instead."""
    user = request.user
    if not (user.has_perm("treatments.view_appointment") and user.has_perm("treatments.add_appointment")):
        return None
    return "sessions/_dashboard_reception.html", {
        "data": calendar.reception_dashboard(day=today, viewer=user),
        "today": today,
        "calendar_url": calendar.url_maker("sessions:calendar-day")(),
    }
