"""The staff's side of online booking: the manager's settings, and marking a call to a client made."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parlor.view_helpers import add_errors, require_perm
from sessions.models import CallRequest, OnlinePolicy
from sessions.online import services
from sessions.online.forms import OnlinePolicyForm


def online_policy(request):
    """The manager's settings of online booking and the waiting list."""
    require_perm(request, "treatments.change_onlinepolicy")
    policy = OnlinePolicy.current()
    form = OnlinePolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.online_policy_update(policy=policy, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Online booking settings saved."))
            return redirect("online:policy")
    return render(request, "sessions/online_policy.html", {"form": form})


@require_POST
def call_done(request, pk: int):
    """The front desk called the client."""
    require_perm(request, "treatments.change_callrequest")
    call = get_object_or_404(CallRequest, pk=pk)
    services.call_request_done(call=call, by=request.user)
    messages.success(request, _("Marked as called: %(client)s.") % {"client": call.client.full_name})
    return redirect("parlor:dashboard")
