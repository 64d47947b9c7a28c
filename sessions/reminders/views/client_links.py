"""Pages behind the links in clients' emails: no login, the signed token is the key.

GET and HEAD only show (mail scanners open every link); the button on the page POSTs back to the
same address with the same token and the CSRF token of our own page. Each page speaks the
client's language and shows no health details.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from parlor.contacts import parlor_contacts
from screening.forms import ScreeningForm
from screening.selectors import questionnaire
from sessions.models import Appointment, ReminderPolicy
from sessions.reminders import client_actions, links

SAFE_AND_POST = ["GET", "HEAD", "POST"]
# 400 for a link that was never ours (tampered), 410 for one that was but is gone.
_STATUS = {links.LinkError.INVALID: 400, links.LinkError.EXPIRED: 410, links.LinkError.STALE: 410}


def _parlor() -> dict:
    # Called inside the client's language, so the address is in it.
    contacts = parlor_contacts()
    return {"parlor_address": contacts.address, "parlor_phone": contacts.phone}


def _bad_link(request, error: links.LinkError):
    return render(
        request,
        "sessions/link_invalid.html",
        {"reason": error.reason, **_parlor()},
        status=_STATUS[error.reason],
    )


def _appointment_page(request, token: str, purpose: str):
    try:
        appointment = links.appointment_from_token(token, purpose)
    except links.LinkError as error:
        return _bad_link(request, error)
    with translation.override(appointment.client.language):
        policy = ReminderPolicy.current()
        context = {
            "appointment": appointment,
            "purpose": purpose,
            "starts_local": timezone.localtime(appointment.starts_at),
            "deadline_local": timezone.localtime(
                client_actions.cancel_deadline(appointment=appointment, policy=policy)
            ),
            "error": None,
            "too_late": False,
            "done": False,
            "already": False,
            **_parlor(),
        }
        if purpose == links.CANCEL and appointment.status in Appointment.UPCOMING:
            context["too_late"] = not client_actions.can_cancel_by_link(
                appointment=appointment, now=timezone.now(), policy=policy
            )
        if request.method == "POST":
            action = (
                client_actions.appointment_confirm_by_client
                if purpose == links.CONFIRM
                else client_actions.appointment_cancel_by_client
            )
            try:
                result = action(appointment=appointment)
            except ValidationError as exc:
                context["too_late"] = exc.code == client_actions.TOO_LATE
                context["error"] = None if context["too_late"] else exc.messages[0]
            else:
                context["appointment"] = result.appointment
                if result.held:
                    context["error"] = str(client_actions.ON_HOLD_MESSAGE)
                else:
                    context["done"] = result.changed
                    context["already"] = not result.changed
        elif _already(appointment, purpose):
            context["already"] = True
        elif purpose == links.CONFIRM and (refusal := client_actions.confirm_refusal(appointment)) is not None:
            context["error"] = refusal.messages[0]
        elif purpose == links.CANCEL and appointment.status not in Appointment.UPCOMING:
            context["error"] = _("This appointment can no longer be cancelled.")
        return render(request, "sessions/link_appointment.html", context)


def _already(appointment: Appointment, purpose: str) -> bool:
    wanted = Appointment.Status.CONFIRMED if purpose == links.CONFIRM else Appointment.Status.CANCELLED
    return appointment.status == wanted


@login_not_required
@require_http_methods(SAFE_AND_POST)
def link_confirm(request, token: str):
    """Show the appointment with a "confirm" button; the POST confirms (once)."""
    return _appointment_page(request, token, links.CONFIRM)


@login_not_required
@require_http_methods(SAFE_AND_POST)
def link_cancel(request, token: str):
    """Show the appointment with a "cancel" button until the cutoff, then the parlor's phone."""
    return _appointment_page(request, token, links.CANCEL)


@login_not_required
@require_http_methods(SAFE_AND_POST)
def link_screening(request, token: str):
    """The questionnaire in the client's language, speaking to the client; the POST records a self-reported
    screening. One link, one answer: once used, the page only thanks (and records nothing)."""
    try:
        client = links.client_from_screening_token(token)
    except links.LinkError as error:
        return _bad_link(request, error)
    with translation.override(client.language):
        key = links.screening_submission_key(token)
        if client_actions.self_screening_received(submission_key=key):
            return render(request, "sessions/link_screening_thanks.html", {"already": True, **_parlor()})
        catalogue = questionnaire()
        bound = request.method == "POST"
        # The key comes from the link, not from the form: a second post of any copy of the page finds it.
        form = ScreeningForm(
            request.POST if bound else None,
            catalogue=catalogue,
            client=client,
            self_report=True,
            initial={"submission_key": key},
        )
        form.helper.inputs = []  # the staff's "Record the screening" button: the page has its own
        form.helper.form_tag = False
        if bound and form.is_valid():
            try:
                client_actions.self_screening_record(
                    client=client,
                    answers=form.answers(),
                    findings=form.findings(),
                    submission_key=key,
                    notes=form.cleaned_data.get("notes") or "",
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(reverse("sessions:link-screening-thanks", args=[token]))
        return render(request, "sessions/link_screening.html", {"form": form, "client": client, **_parlor()})


@login_not_required
@require_http_methods(["GET", "HEAD"])
def link_screening_thanks(request, token: str):
    try:
        client = links.client_from_screening_token(token)
    except links.LinkError as error:
        return _bad_link(request, error)
    with translation.override(client.language):
        return render(request, "sessions/link_screening_thanks.html", _parlor())


urlpatterns = [
    path("r/<str:token>/confirm/", link_confirm, name="link-confirm"),
    path("r/<str:token>/cancel/", link_cancel, name="link-cancel"),
    path("s/<str:token>/", link_screening, name="link-screening"),
    path("s/<str:token>/thanks/", link_screening_thanks, name="link-screening-thanks"),
]
