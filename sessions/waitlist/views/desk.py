"""The front desk's waiting-list pages: putting a client on the list from the client card, taking an
entry off it, and the manager's priority."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client
from parlor.view_helpers import add_errors, require_perm
from sessions.models import WaitlistEntry
from sessions.waitlist import services
from sessions.waitlist.forms import DeskWaitlistForm


def waitlist_add(request, client_pk: int):
    """Put the client on the waiting list: a massage type, a masseur or any, days and times, until when."""
    require_perm(request, "treatments.add_waitlistentry")
    client = get_object_or_404(Client.objects.active(), pk=client_pk)
    may_prioritise = request.user.has_perm("treatments.prioritise_waitlistentry")
    form = DeskWaitlistForm(request.POST or None, client=client, may_prioritise=may_prioritise)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            services.entry_add(
                client=client,
                massage_type=values["massage_type"],
                masseur=values.get("masseur"),
                weekdays=values.get("weekdays") or [],
                windows=values.get("windows") or [],
                until=values["until"],
                course=values.get("course"),
                priority=bool(values.get("priority")),
                created_by=request.user,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("%(client)s is on the waiting list.") % {"client": client.full_name})
            return redirect(client.get_absolute_url())
    return render(request, "sessions/waitlist_add.html", {"form": form, "client": client})


@require_POST
def waitlist_cancel(request, pk: int):
    """Take an entry off the list."""
    require_perm(request, "treatments.change_waitlistentry")
    entry = get_object_or_404(WaitlistEntry.objects.select_related("client"), pk=pk)
    services.entry_cancel(entry=entry, by=request.user)
    messages.success(request, _("Taken off the waiting list."))
    return redirect(entry.client.get_absolute_url())


@require_POST
def waitlist_priority(request, pk: int):
    """The manager puts a waiting client first, or back in line."""
    require_perm(request, "treatments.prioritise_waitlistentry")
    entry = get_object_or_404(WaitlistEntry.objects.select_related("client"), pk=pk)
    services.entry_prioritise(entry=entry, priority=request.POST.get("priority") == "1", by=request.user)
    return redirect(entry.client.get_absolute_url())


urlpatterns = [
    path("waitlist/clients/<int:client_pk>/add/", waitlist_add, name="waitlist-add"),
    path("waitlist/<int:pk>/cancel/", waitlist_cancel, name="waitlist-cancel"),
    path("waitlist/<int:pk>/priority/", waitlist_priority, name="waitlist-priority"),
]
