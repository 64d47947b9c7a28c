"""The public booking pages: choose a massage, a masseur and a day, see the free times, give an email,
sign in by the link or the code, make a profile when new, hold the time, answer the questionnaire when
the screening asks for it, confirm. No log-in (login_not_required): the signed-in client lives in the
session (sessions.online.visitor); every page works without JavaScript and on a phone."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clients import services as client_services
from parlor.contacts import parlor_contacts
from parlor.net import client_ip
from parlor.view_helpers import add_errors
from screening.forms import ScreeningForm
from screening.selectors import questionnaire as questionnaire_catalogue
from sessions.online import choices, selectors, services, signin, visitor
from sessions.online.forms import CodeForm, EmailForm, ProfileForm, SearchForm
from sessions.reminders import client_actions

SAFE = ["GET", "HEAD"]
SAFE_AND_POST = ["GET", "HEAD", "POST"]
# Names the screening a held time's questionnaire records: one per hold, so a second post finds it.
_QUESTIONNAIRE_KEYS = uuid.UUID("0b8f5c44-7a3e-4d1f-9c67-2f6e1d2a9b31")


def _parlor() -> dict:
    contacts = parlor_contacts()
    return {"parlor_phone": contacts.phone, "parlor_address": contacts.address}


def error_code(exc: ValidationError) -> str | None:
    """The code of the first error a service gave."""
    if hasattr(exc, "error_dict"):
        for errors in exc.error_dict.values():
            for error in errors:
                if error.code:
                    return error.code
        return None
    if hasattr(exc, "error_list"):
        return next((error.code for error in exc.error_list if error.code), exc.code)
    return exc.code


def _client_or_redirect(request):
    """(the signed-in client, None) or (None, where to go instead)."""
    who = visitor.visitor(request)
    if who is None:
        return None, redirect("online:book")
    if who.client is None:
        return None, redirect("online:profile")
    return who.client, None


# --- choosing --------------------------------------------------------------------------------------


@login_not_required
@require_http_methods(SAFE)
def book(request):
    """Massage types with their length and price, a masseur, a day: the free times of that day from the
    front desk's availability (or, for a course, the proposed schedule)."""
    data = request.GET.copy() if request.GET else None
    if data is not None and not data.get("day"):
        data["day"] = timezone.localdate().isoformat()
    form = SearchForm(data)
    times, proposal, course_choice = [], [], None
    searched = data is not None and form.is_valid()
    if searched:
        values = form.cleaned_data
        massage_type, masseur, day = values["massage_type"], values.get("masseur"), values["day"]
        if values.get("kind") == choices.COURSE:
            who = visitor.visitor(request)
            proposal = services.course_proposal(
                client=who.client if who else None,
                massage_type=massage_type,
                start_date=day,
                masseur=masseur,
                preferred_time=values.get("time"),
            )
            if proposal and all(p.is_bookable for p in proposal):
                course_choice = choices.Choice(choices.COURSE, massage_type, masseur, None, day, values.get("time"))
        else:
            times = [
                (time, choices.Choice(choices.SINGLE, massage_type, masseur, time.starts_at))
                for time in selectors.free_times(massage_type=massage_type, day=day, masseur=masseur)
            ]
    return render(
        request,
        "sessions/online_book.html",
        {
            "form": form,
            "searched": searched,
            "times": times,
            "proposal": proposal,
            "course_choice": course_choice,
            "visitor": visitor.visitor(request),
            **_parlor(),
        },
    )


def _choice_from_get(request) -> choices.Choice | None:
    return choices.from_dict(request.GET.dict()) if request.GET else None


def _still_free(choice: choices.Choice) -> bool:
    if choice.is_course:
        return True  # the proposal is made again when held
    times = selectors.free_times(
        massage_type=choice.massage_type, day=choice.starts_local.date(), masseur=choice.masseur
    )
    return any(time.starts_at == choice.starts_at for time in times)


def _next_times(choice: choices.Choice) -> list:
    if choice.is_course or choice.starts_at is None:
        return []
    return [
        (time, choices.Choice(choices.SINGLE, choice.massage_type, choice.masseur, time.starts_at))
        for time in selectors.next_free_times(
            massage_type=choice.massage_type, masseur=choice.masseur, after=choice.starts_at
        )
    ]


@login_not_required
@require_http_methods(SAFE_AND_POST)
def choose(request):
    """The chosen time (or course) and who books it: an email for the sign-in link (and a phone), or,
    signed in already, a button that holds the time for ten minutes."""
    choice = _choice_from_get(request)
    who = visitor.visitor(request)
    context = {"choice": choice, "visitor": who, "taken": False, "next_times": [], "form": None, **_parlor()}
    if choice is None:
        return render(request, "sessions/online_choose.html", context)
    if choice.is_course:
        context["proposal"] = services.course_proposal(
            client=who.client if who else None,
            massage_type=choice.massage_type,
            start_date=choice.start_date,
            masseur=choice.masseur,
            preferred_time=choice.preferred_time,
        )
    if who is None:
        form = EmailForm(request.POST or None)
        context["form"] = form
        if request.method == "POST" and form.is_valid():
            return _send_sign_in(request, form, choice)
    elif request.method == "POST":
        visitor.remember_choice(request, choice.as_dict())
        if who.client is None:
            return redirect("online:profile")
        return _hold(request, who.client, choice)
    if request.method != "POST" and not _still_free(choice):
        context["taken"], context["next_times"] = True, _next_times(choice)
    return render(request, "sessions/online_choose.html", context)


def _send_sign_in(request, form: EmailForm, choice: choices.Choice):
    """The same answer whatever the address: known, new, throttled or a bot's (nothing sent to those)."""
    email = signin.normalise_email(form.cleaned_data["email"])
    row = None
    if not form.is_bot:
        row = signin.sign_in_request(
            email=email, address=client_ip(request) or "", language=get_language(), choice=choice.as_dict()
        )
    visitor.remember_choice(request, choice.as_dict())
    visitor.remember_pending(
        request,
        nonce=str(row.nonce if row is not None else uuid.uuid4()),
        email=email,
        phone=str(form.cleaned_data.get("phone") or ""),
    )
    return redirect("online:sign-in")


def _hold(request, client, choice: choices.Choice):
    """Hold the choice for the client; a time taken meanwhile shows the next free ones."""
    try:
        if choice.is_course:
            services.course_reservation_make(
                client=client,
                massage_type=choice.massage_type,
                start_date=choice.start_date,
                masseur=choice.masseur,
                preferred_time=choice.preferred_time,
            )
        else:
            services.reservation_make(
                client=client, massage_type=choice.massage_type, starts_at=choice.starts_at, masseur=choice.masseur
            )
    except ValidationError as exc:
        if error_code(exc) == services.TAKEN:
            messages.warning(request, _("Someone has just taken this time. Please choose another one."))
        else:
            messages.error(request, " ".join(exc.messages))
        return redirect(reverse("online:choose") + "?" + choice.query())
    visitor.remember_choice(request, None)
    return redirect("online:reservation")


# --- signing in ------------------------------------------------------------------------------------


def _signed_in(request, signed: signin.SignedIn):
    visitor.sign_in(request, email=signed.email, client=signed.client)
    if signed.choice:
        visitor.remember_choice(request, signed.choice)
    if signed.client is None:
        return redirect("online:profile")
    return _continue(request, signed.client)


def _continue(request, client):
    """Back to what the client was booking (held at once), else their appointments."""
    choice = choices.from_dict(visitor.choice(request))
    if choice is None:
        return redirect("online:my")
    return _hold(request, client, choice)


@login_not_required
@require_http_methods(SAFE_AND_POST)
def sign_in_code(request):
    """ "Check your email": the six-digit code from it, typed here. The page reads the same whoever asked."""
    pending = visitor.pending(request) or {}
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signed = signin.sign_in_by_code(
                nonce=pending.get("nonce", ""), email=pending.get("email", ""), code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return _signed_in(request, signed)
    return render(
        request,
        "sessions/online_sign_in.html",
        {"form": form, "email": pending.get("email", ""), "minutes": signin.LINK_MINUTES, **_parlor()},
    )


_LINK_STATUS = {signin.INVALID: 400, signin.EXPIRED: 410, signin.USED: 410}


@login_not_required
@require_http_methods(SAFE_AND_POST)
def sign_in_link(request, token: str):
    """The emailed link: GET only shows a button (mail scanners open links), the POST signs in, once."""
    if request.method == "POST":
        try:
            signed = signin.sign_in_by_link(token=token)
        except signin.SignInError as error:
            return render(
                request,
                "sessions/online_link_used.html",
                {"reason": error.reason, **_parlor()},
                status=_LINK_STATUS[error.reason],
            )
        return _signed_in(request, signed)
    if not signin.link_is_usable(token):
        return render(request, "sessions/online_link_used.html", {"reason": signin.USED, **_parlor()}, status=410)
    return render(request, "sessions/online_sign_in_link.html", _parlor())


@login_not_required
@require_http_methods(SAFE_AND_POST)
def profile(request):
    """A new client's short profile with the consents, then on to the booking."""
    who = visitor.visitor(request)
    if who is None:
        return redirect("online:book")
    if who.client is not None:
        return _continue(request, who.client)
    form = ProfileForm(
        request.POST or None, initial={"phone": visitor.phone(request), "language": (get_language() or "uk")[:2]}
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            client = client_services.client_create(
                full_name=values["full_name"],
                phone=values["phone"],
                email=who.email,
                birth_date=values["birth_date"],
                sex=values["sex"],
                language=values["language"],
                reminder_consent=values["reminder_consent"],
                guardian_name=values["guardian_name"],
                guardian_phone=values["guardian_phone"],
                guardian_consent=values["guardian_consent"],
                data_consent=values["data_consent"],
                created_by=None,
            )
        except ValidationError as exc:
            if error_code(exc) == "duplicate" or "phone" in getattr(exc, "error_dict", {}):
                exc = _friendly_duplicate(exc)
            add_errors(form, exc)
        else:
            visitor.attach_client(request, client)
            return _continue(request, client)
    return render(request, "sessions/online_profile.html", {"form": form, "email": who.email, **_parlor()})


def _friendly_duplicate(exc: ValidationError) -> ValidationError:
    # The staff's "a client with this phone already exists" is theirs; a client reads what to do.
    errors = dict(getattr(exc, "error_dict", {}))
    if "phone" in errors:
        errors["phone"] = [
            _("This phone is already on record with us under another email. Call us, or leave it out and we will call.")
        ]
    if "email" in errors:
        errors["email"] = [_("This email has just been registered. Please sign in again.")]
    return ValidationError(errors)


# --- holding and confirming ------------------------------------------------------------------------


@login_not_required
@require_http_methods(SAFE_AND_POST)
def reservation(request):
    """The time held for the client and what comes next: the questionnaire when the screening asks for
    one, else "confirm". The POST confirms (or gives the time up)."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    if request.method == "POST" and request.POST.get("action") == "release":
        services.reservation_release(client=client)
        messages.info(request, _("The time is free again."))
        return redirect("online:book")
    if request.method == "POST":
        return _confirmed(request, services.reservation_confirm(client=client))
    held = selectors.held(client=client)
    outcome = services.outcome_of(services.reservation_verdicts(held)) if held else services.EXPIRED
    return render(
        request,
        "sessions/online_reservation.html",
        {
            "held": held,
            "course": held[0].course if held and held[0].course_id else None,
            "until": min(a.reserved_until for a in held) if held else None,
            # Never the verdict itself: only what the client does next.
            "needs_questionnaire": outcome == services.NEEDS_SCREENING,
            **_parlor(),
        },
    )


def _confirmed(request, result: services.Confirmation):
    if result.outcome == services.NEEDS_SCREENING:
        return redirect("online:questionnaire")
    if result.outcome == services.BLOCKED:
        return redirect("online:call-back")
    if result.outcome == services.EXPIRED:
        messages.warning(request, _("Ten minutes have passed and the time was freed. Please choose it again."))
        return redirect("online:book")
    if result.outcome == services.AWAITING:
        messages.info(
            request,
            _(
                "Your time is reserved. Please bring your doctor's permission for massage to the first visit: "
                "we keep the time for you until we have it."
            ),
        )
    else:
        messages.success(request, _("Thank you, your massage is booked."))
    return redirect("online:my")


@login_not_required
@require_http_methods(SAFE_AND_POST)
def questionnaire(request):
    """The health questionnaire, as the emailed one: every question unanswered at the start. What the
    client says is added to their record as a self-report; the masseur goes through it at the visit."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    held = selectors.held(client=client)
    if not held:
        return redirect("online:reservation")
    key = uuid.uuid5(_QUESTIONNAIRE_KEYS, f"{client.pk}:{held[0].pk}:{held[0].booked_at.isoformat()}")
    if client_actions.self_screening_received(submission_key=key):
        return redirect("online:reservation")
    form = ScreeningForm(
        request.POST if request.method == "POST" else None,
        catalogue=questionnaire_catalogue(),
        client=client,
        self_report=True,
        initial={"submission_key": key},
    )
    form.helper.inputs = []
    form.helper.form_tag = False
    if request.method == "POST" and form.is_valid():
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
            return redirect("online:reservation")
    return render(request, "sessions/online_questionnaire.html", {"form": form, **_parlor()})


@login_not_required
@require_http_methods(SAFE)
def call_back(request):
    """Kindly: no booking now; the parlor will call. Nothing about why."""
    client, elsewhere = _client_or_redirect(request)
    if elsewhere:
        return elsewhere
    return render(request, "sessions/online_call_back.html", {"client": client, **_parlor()})


@login_not_required
@require_POST
def sign_out(request):
    visitor.sign_out(request)
    return redirect("online:book")
