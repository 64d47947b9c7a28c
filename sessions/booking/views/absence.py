"""Reassigning the appointments a masseur's time off clashes with: one page lists them, each with where it
could go (another qualified masseur at the same time, or the next free time); the chosen ones move through
the move service, so each client gets the "moved" email."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parlor.formats import when
from parlor.models import Masseur, Room, TimeOff
from parlor.view_helpers import require_perm
from sessions.booking import absence, services
from sessions.booking.views.appointments import CHANGE_APPOINTMENT

KEEP = "keep"


def time_off_reassign(request, pk):
    """The bookings this time off clashes with and where each could go; a POST moves the chosen ones."""
    require_perm(request, CHANGE_APPOINTMENT)
    time_off = get_object_or_404(TimeOff.objects.select_related("masseur"), pk=pk)
    clashing = absence.absent_masseur_appointments(time_off=time_off)
    if request.method == "POST":
        moved, failed = _move_chosen(request, clashing)
        if moved:
            messages.success(
                request,
                ngettext(
                    "%(count)s appointment moved; the client is told by email.",
                    "%(count)s appointments moved; the clients are told by email.",
                    moved,
                )
                % {"count": moved},
            )
        for appointment, problems in failed:
            messages.error(
                request,
                _("%(client)s, %(when)s: %(problems)s")
                % {"client": appointment.client.full_name, "when": when(appointment.starts_at), "problems": problems},
            )
        return redirect("sessions:time-off-reassign", pk=pk)
    return render(
        request,
        "sessions/time_off_reassign.html",
        {"time_off": time_off, "clashes": absence.reassignment_options(clashing), "keep": KEEP},
    )


def _move_chosen(request, clashing) -> tuple[int, list]:
    """Move each appointment whose option was chosen; returns how many moved and [(appointment, why not)].
    Each move is its own transaction: one refused does not undo the others."""
    chosen = {}
    for appointment in clashing:
        value = request.POST.get(f"choice-{appointment.pk}", KEEP)
        if value != KEEP:
            chosen[appointment.pk] = (appointment, absence.parse_option(value))
    masseurs = Masseur.objects.in_bulk({c[1][0] for c in chosen.values() if c[1]})
    rooms = Room.objects.in_bulk({c[1][1] for c in chosen.values() if c[1]})
    moved, failed = 0, []
    for appointment, option in chosen.values():
        if option is None or option[0] not in masseurs or option[1] not in rooms:
            failed.append((appointment, _("This choice is not one the page offered; choose again.")))
            continue
        masseur_id, room_id, starts_at = option
        try:
            services.appointment_move(
                appointment=appointment,
                starts_at=starts_at,
                masseur=masseurs[masseur_id],
                room=rooms[room_id],
                moved_by=request.user,
            )
        except ValidationError as exc:
            failed.append((appointment, " ".join(exc.messages)))
        else:
            moved += 1
    return moved, failed


urlpatterns = [
    path("time-off/<int:pk>/reassign/", time_off_reassign, name="time-off-reassign"),
]
