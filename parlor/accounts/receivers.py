"""Account signals turned into security events and session bookkeeping; connected by
ParlorConfig.ready."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django_otp import user_has_device

from parlor.accounts.backends import permissions_warm
from parlor.accounts.policy import AUTH_AT, ENROLLED, LOGOUT_REASON, SEEN_AT
from parlor.accounts.services import security_event_record
from parlor.models import SecurityEvent


@receiver(user_logged_in, dispatch_uid="parlor-logged-in")
def _logged_in(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[AUTH_AT] = now
        session[SEEN_AT] = now
        session[ENROLLED] = user_has_device(user)
    security_event_record(kind=SecurityEvent.Kind.LOGIN, request=request, user=user)
    permissions_warm(user)


@receiver(user_logged_out, dispatch_uid="parlor-logged-out")
def _logged_out(sender, request, user, **kwargs):
    if user is None:  # a log-out without a log-in changes nothing
        return
    reason = getattr(request, LOGOUT_REASON, "")
    security_event_record(kind=SecurityEvent.Kind.LOGOUT, request=request, user=user, detail=reason)


@receiver(user_login_failed, dispatch_uid="parlor-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, username=str(credentials.get("username") or "")
    )


@receiver(user_locked_out, dispatch_uid="parlor-locked-out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    security_event_record(kind=SecurityEvent.Kind.LOCKED_OUT, request=request, username=str(username or ""))
