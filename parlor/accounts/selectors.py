"""Reads about staff accounts."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from parlor.models import SecurityEvent


def security_events(*, kind: str = "", username: str = "") -> QuerySet[SecurityEvent]:
    """Security events, newest first; one kind and/or one username (exact, any case) if given."""
    events = SecurityEvent.objects.all()
    if kind:
        events = events.filter(kind=kind)
    if username:
        events = events.filter(username__iexact=username)
    return events.order_by("-at", "-pk")


def two_factor_state(*, user: AbstractBaseUser) -> dict:
    """Whether the user has a confirmed authenticator and how many recovery codes are left."""
    return {
        "has_authenticator": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    }
