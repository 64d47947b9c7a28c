"""The reception panel on the dashboard (today's appointments, the ones on hold, courses with sessions
still to book, bookings left with an absent masseur) and the bookings panel of the client's page."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import clients.panels
from parlor import dashboard, resources
from screening.access import can_view_health_record
from sessions.booking import absence, calendar
from sessions.booking.card import client_card
from sessions.models import Reminder


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
        # Nothing stays booked with an absent masseur without a warning here.
        "absent": absence.absent_summary(),
        "can_reassign": user.has_perm("treatments.change_appointment"),
    }


@clients.panels.register
def bookings_panel(request, client):
    """The client's bookings, courses, flags, holds and emails, with the desk's actions (book one, book a
    course, repeat a course, send the questionnaire's link); for everyone who may view appointments. What a
    flag or a hold says about health only for those who may see the record (the client page trails it)."""
    user = request.user
    if not user.has_perm("treatments.view_appointment"):
        return None
    may_book = not client.merged_into_id and not client.erased_at
    return "sessions/_client_card.html", {
        "card": client_card(client=client, past_page=request.GET.get("past")),
        "can_view_health": can_view_health_record(user, client),
        "can_book": may_book and user.has_perm("treatments.add_appointment"),
        "can_book_course": may_book and user.has_perm("treatments.add_course"),
        "can_send_link": may_book and user.has_perm("treatments.add_appointment"),
        "link_refusal": screening_link_refusal(client),
        "now": timezone.now(),
        "sent_state": Reminder.State.SENT,
    }


def screening_link_refusal(client) -> str:
    """Why the questionnaire's link cannot be emailed to the client, or ""."""
    from sessions.reminders.desk import screening_link_refusal as refusal

    return refusal(client)


def _course_for(client) -> str:
    return f"{reverse('sessions:course-create')}?client={client.pk}"


# A new caller goes straight on to booking a course, the client already chosen.
clients.panels.register_next_step(
    clients.panels.NextStep("course", _("Register and book a course"), "treatments.add_course", _course_for)
)


# A time off that clashes with bookings goes on to their reassignment.
resources.on_saved("time-off", absence.after_time_off_saved)
