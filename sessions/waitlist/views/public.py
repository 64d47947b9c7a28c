"""The client's side of the waiting list, under /book/ (namespace "online"): joining it and leaving it
when signed in, and the offer's page behind the emailed link (no sign-in: the signed link is the key;
GET only shows, the page's POST accepts or declines)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from parlor.view_helpers import add_errors
from sessions.localtime import kyiv
from sessions.models import WaitlistEntry, WaitlistOffer
from sessions.online.forms import WaitlistForm
from sessions.online.views.public import _client_or_redirect, _parlor
from sessions.waitlist import links, services


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_join(request):
    """The signed-in client puts themselves on the waiting list."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    initial = {}
    if request.GET.get("type", "").isdigit():
        initial["massage_type"] = request.GET["type"]
    form = WaitlistForm(request.POST or None, initial=initial)
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
                created_by=None,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("You are on the waiting list. We will email you when a time frees up."))
            return redirect("online:my")
    return render(request, "sessions/online_waitlist.html", {"form": form, **_parlor()})


@login_not_required
@require_POST
def waitlist_leave(request, pk: int):
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    entry = WaitlistEntry.objects.filter(pk=pk, client=client).first()
    if entry is None:
        raise Http404
    services.entry_cancel(entry=entry, client=client)
    messages.success(request, _("You are off the waiting list."))
    return redirect("online:my")


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def offer(request, token: str):
    """A freed time offered by email: what, when, with whom, until when; "take it" and "no, thanks"."""
    try:
        offer_id = links.offer_id_from_token(token)
    except links.OfferLinkError:
        return render(request, "sessions/online_offer.html", {"invalid": True, **_parlor()}, status=400)
    offer = (
        WaitlistOffer.objects.select_related("entry__client", "slot__massage_type", "slot__masseur", "appointment")
        .filter(pk=offer_id)
        .first()
    )
    if offer is None:
        return render(request, "sessions/online_offer.html", {"invalid": True, **_parlor()}, status=410)
    with translation.override(offer.entry.client.language):
        context = {"offer": offer, "outcome": None, "declined": False, **_parlor()}
        if request.method == "POST" and request.POST.get("action") == "decline":
            context["declined"] = services.offer_decline(offer=offer)
            offer.refresh_from_db()
        elif request.method == "POST":
            result = services.offer_accept(offer=offer)
            context["outcome"], offer = result.outcome, result.offer
            context["appointment"] = result.appointment
        context["offer"] = offer
        context["starts_local"] = offer.slot.starts_at.astimezone(kyiv())
        context["expires_local"] = offer.expires_at.astimezone(kyiv())
        context["open"] = offer.state == WaitlistOffer.State.OPEN and offer.expires_at > timezone.now()
        return render(request, "sessions/online_offer.html", context)


urlpatterns = [
    path("waitlist/", waitlist_join, name="waitlist-join"),
    path("waitlist/<int:pk>/leave/", waitlist_leave, name="waitlist-leave"),
    path("offer/<str:token>/", offer, name="offer"),
]
