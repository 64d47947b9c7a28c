"""The account pages: one's own password and two-factor log-in, the second factor after the
password, the password-reset link's pages, and the manager's security events."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from parlor.accounts import selectors, services
from parlor.accounts.forms import (
    CrispyPasswordChangeForm,
    CrispySetPasswordForm,
    SecurityEventFilterForm,
    TokenForm,
    TotpConfirmForm,
)
from parlor.accounts.policy import ENROLLED, two_factor_required
from parlor.models import SecurityEvent
from parlor.view_helpers import add_errors, require_perm

PAGE_SIZE = 50


def _next_url(request) -> str:
    """Where to go after the second factor: the page first asked for, if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def account(request):
    """One's own account: the password and two-factor log-in."""
    user = request.user
    context = {
        "two_factor_required": two_factor_required(user),
        **selectors.two_factor_state(user=user),
    }
    return render(request, "parlor/account.html", context)


class PasswordChange(auth_views.PasswordChangeView):
    """Every staff user changes their own password (the old one first); other sessions end."""

    form_class = CrispyPasswordChangeForm
    template_name = "parlor/password_change.html"
    success_url = reverse_lazy("parlor:account")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.security_event_record(kind=SecurityEvent.Kind.PASSWORD_CHANGED, request=self.request, user=form.user)
        messages.success(self.request, _("Your password is changed."))
        return response


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request):
    """Add an authenticator app: scan the QR code, type one code; the recovery codes follow."""
    user = request.user
    # Whoever has only the password must not replace the device of the account's owner.
    if user_has_device(user) and not user.is_verified():
        return redirect(f"{reverse('parlor:two-factor-verify')}?next={reverse('parlor:two-factor-setup')}")
    device = services.totp_device_start(user=user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_device_confirm(device=device, token=form.cleaned_data["token"], request=request)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            otp_login(request, device)
            request.session[ENROLLED] = True
            # Rendered, not redirected: the codes are shown this once and stored nowhere in clear.
            return render(request, "parlor/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    context = {
        "form": form,
        "qr_svg": services.totp_qr_svg(device=device),
        "secret": _base32(device.bin_key),
        "required": two_factor_required(user),
        "next": request.GET.get("next", ""),
    }
    return render(request, "parlor/two_factor_setup.html", context)


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request):
    """The second factor after the password: an authenticator code or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect(f"{reverse('parlor:two-factor-setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.token_verify(user=user, token=form.cleaned_data["token"], request=request)
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("The code is wrong or was used already. Wait for the next one and try again."))
    return render(request, "parlor/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def recovery_codes_new(request):
    """New recovery codes in place of the old ones (needs a verified session)."""
    if not request.user.is_verified():
        return redirect("parlor:two-factor-verify")
    codes = services.recovery_codes_issue(user=request.user, request=request)
    return render(request, "parlor/recovery_codes.html", {"codes": codes, "next": reverse("parlor:account")})


@require_POST
def two_factor_remove(request):
    """Turn two-factor log-in off, where it is optional (needs a verified session)."""
    if not request.user.is_verified():
        return redirect("parlor:two-factor-verify")
    try:
        services.two_factor_remove(user=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        request.session[ENROLLED] = False
        messages.success(request, _("Two-factor log-in is off."))
    return redirect("parlor:account")


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """The page of the one-time link a manager sent: set a new password (the link then dies)."""

    form_class = CrispySetPasswordForm
    template_name = "parlor/password_reset_confirm.html"
    success_url = reverse_lazy("parlor:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.security_event_record(
            kind=SecurityEvent.Kind.PASSWORD_CHANGED,
            request=self.request,
            user=form.user,
            detail=gettext_noop("reset link"),
        )
        return response


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "parlor/password_reset_complete.html"


def security_event_list(request):
    """The manager's page of security events: newest first, by kind and username, paged."""
    require_perm(request, "parlor.view_securityevent")
    filter_form = SecurityEventFilterForm(request.GET or None)
    kind = username = ""
    if filter_form.is_valid():
        kind, username = filter_form.cleaned_data["kind"], filter_form.cleaned_data["username"]
    page = Paginator(selectors.security_events(kind=kind, username=username), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "parlor/security_event_list.html",
        {"filter_form": filter_form, "page_obj": page, "query": query.urlencode()},
    )
