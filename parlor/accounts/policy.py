"""Who must pass the second factor, and the session keys the account middleware keeps."""

from django.contrib.auth.models import AbstractBaseUser

# Epoch seconds of the log-in and of the last request; parlor.middleware.SessionTimeoutMiddleware.
AUTH_AT = "parlor_auth_at"
SEEN_AT = "parlor_seen_at"
# Whether the user had a confirmed two-factor device at log-in: optional users who set one up
# must use it, and the middleware should not look for devices on every request.
ENROLLED = "parlor_otp_enrolled"
# Why a session ended, for the log-out's security event.
LOGOUT_REASON = "parlor_logout_reason"


def two_factor_required(user: AbstractBaseUser) -> bool:
    """Managers must use two-factor log-in: superusers, staff (the admin site) and whoever may
    change staff accounts. Others may. Costs no query in a request whose view checks a
    permission anyway (Django caches them on the user)."""
    return bool(user.is_superuser or user.is_staff or user.has_perm("auth.change_user"))


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The username django-axes counts failures of: as typed, cut to a username's longest (150),
    since its table holds 255 characters and a longer one typed at the log-in was a 500."""
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username") if source else None
    return username[:150] if isinstance(username, str) else username
