"""Writes about staff accounts: security events, two-factor devices, recovery codes and
password-reset links."""

import segno
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor.accounts.policy import two_factor_required
from parlor.models import SecurityEvent
from parlor.net import client_ip

RECOVERY_CODE_COUNT = 10
# The names devices get; the account page shows them and the admin lists them.
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def security_event_record(
    *,
    kind: str,
    request=None,
    user: AbstractBaseUser | None = None,
    username: str = "",
    detail: str = "",
) -> SecurityEvent:
    """Append one security event; who, from which address (behind the proxy) and what."""
    if user is not None and not user.is_authenticated:
        user = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_ip(request) if request is not None else None,
        detail=detail[:200],
    )


def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """The user's unconfirmed authenticator, made now or kept from an unfinished set-up, so a
    reload shows the same QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_qr_svg(*, device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (no script, no style: CSP allows it)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=True, title=_("QR code"))


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str, request=None) -> list[str]:
    """Confirm the authenticator with one code from it, replacing any earlier one of the user;
    returns fresh recovery codes (shown once)."""
    if device.confirmed or not device.verify_token(token):
        raise ValidationError({"token": _("The code is wrong or too old; type the one the app shows now.")})
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    security_event_record(kind=SecurityEvent.Kind.OTP_DEVICE_ADDED, request=request, user=device.user)
    return recovery_codes_issue(user=device.user, request=request)


@transaction.atomic
def recovery_codes_issue(*, user: AbstractBaseUser, request=None) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones, each good once."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    security_event_record(kind=SecurityEvent.Kind.RECOVERY_CODES_ISSUED, request=request, user=user)
    return codes


@transaction.atomic
def two_factor_remove(*, user: AbstractBaseUser, request=None) -> None:
    """Remove the user's authenticator and recovery codes (only where two-factor is optional)."""
    if two_factor_required(user):
        raise ValidationError(_("Two-factor log-in is required for your account; set up a new device instead."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    security_event_record(kind=SecurityEvent.Kind.OTP_DEVICE_REMOVED, request=request, user=user)


def token_verify(*, user: AbstractBaseUser, token: str, request=None):
    """The confirmed device that accepts this code (an authenticator code or a recovery code,
    which is used up), or None; each device throttles repeated failures itself."""
    token = "".join(token.split()).lower()
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if device.verify_token(token):
                security_event_record(
                    kind=SecurityEvent.Kind.OTP_VERIFIED,
                    request=request,
                    user=user,
                    detail=gettext_noop("recovery code used") if isinstance(device, StaticDevice) else "",
                )
                return device
    security_event_record(kind=SecurityEvent.Kind.OTP_FAILED, request=request, user=user)
    return None


def password_reset_send(*, user: AbstractBaseUser, request=None, sent_by: AbstractBaseUser | None = None) -> None:
    """Email the user a one-time link to set a new password: it works for PASSWORD_RESET_TIMEOUT
    and stops working as soon as the password changes (the token signs the password hash)."""
    if not user.is_active:
        raise ValidationError(
            _("The account %(user)s is not active: activate it first.") % {"user": user.get_username()}
        )
    if not user.email:
        raise ValidationError(_("No email address for %(user)s: add one first.") % {"user": user.get_username()})
    scheme, _sep, domain = settings.PARLOR_BASE_URL.partition("://")
    # The form's send_mail only renders and sends; the link goes to the public site, not to
    # whichever host the manager's request came in on.
    PasswordResetForm().send_mail(
        subject_template_name="emails/password_reset-subject.txt",
        email_template_name="emails/password_reset-body.txt",
        context={
            "domain": domain.rstrip("/"),
            "protocol": scheme,
            "site_name": settings.PARLOR_NAME,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "user": user,
            "timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
        from_email=None,
        to_email=user.email,
        html_email_template_name="emails/password_reset-body.html",
    )
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_RESET_SENT,
        request=request,
        user=user,
        detail=sent_by.get_username() if sent_by else "",
    )
