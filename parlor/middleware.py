"""Request-wide rules of the parlor (settings.MIDDLEWARE says where each one sits):
no page is cached, sessions end when idle or old, bad input answers 400 and an oversized upload
413, never 500, and two-factor log-in comes before any other page."""

import time
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp import user_has_device

from parlor.accounts.policy import AUTH_AT, ENROLLED, LOGOUT_REASON, SEEN_AT, two_factor_required
from parlor.uploads import UploadTooLarge


class NoStoreMiddleware:
    """Cache-Control: no-store (with no-cache, private, max-age=0) on every response Django
    renders: most pages show a client's data, and a shared front-desk browser or a proxy must
    keep none of them. Static files (whitenoise, earlier) keep their long caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class SessionTimeoutMiddleware:
    """Logs out a session idle for SESSION_IDLE_MINUTES or older than SESSION_COOKIE_AGE.

    The log-in stamps both times into the session (parlor.accounts.receivers). The last-seen time
    is rewritten at most once a minute, so a page costs no session write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        now = int(time.time())
        if session.get(AUTH_AT) is None:  # a session from before these limits
            session[AUTH_AT] = session[SEEN_AT] = now
            return
        seen_at = session.get(SEEN_AT, now)
        idle_limit = settings.SESSION_IDLE_MINUTES * 60
        if now - seen_at > idle_limit:
            reason = gettext_noop("idle too long")
            text = _("You were logged out after %(minutes)s minutes without activity. Please log in again.") % {
                "minutes": settings.SESSION_IDLE_MINUTES
            }
        elif now - session[AUTH_AT] > settings.SESSION_COOKIE_AGE:
            reason = gettext_noop("session too old")
            text = _("A log-in lasts at most %(hours)s hours. Please log in again.") % {
                "hours": settings.SESSION_COOKIE_AGE // 3600
            }
        else:
            if now - seen_at >= 60:
                session[SEEN_AT] = now
            return
        setattr(request, LOGOUT_REASON, reason)
        logout(request)
        # LoginRequiredMiddleware now sends the anonymous request to the log-in page, and back after.
        messages.info(request, text)


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


def _undecodable(raw: str) -> bool:
    """True when a percent-encoded string (a WSGI str holds bytes as Latin-1) is not UTF-8."""
    try:
        unquote_to_bytes(raw.encode("latin-1", errors="replace").replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_input(request) -> bool:
    """A NUL byte (PostgreSQL refuses it in text) or bytes that are not UTF-8 anywhere in the
    path, the query string, the cookies or the form, files' names included."""
    if "\x00" in request.path_info or _undecodable(request.META.get("QUERY_STRING", "")):
        return True
    if _has_nul(request.COOKIES.values()):
        return True
    for key, values in request.GET.lists():
        if _has_nul([key, *values]):
            return True
    if request.method != "POST":
        return False
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded" and _undecodable(request.body.decode("latin-1")):
        return True
    for key, values in request.POST.lists():
        # The multipart parser put U+FFFD where the bytes were not UTF-8.
        if _has_nul([key, *values]) or (content_type.startswith("multipart/") and "\ufffd" in key + "".join(values)):
            return True
    return any(_has_nul([key, *(file.name or "" for file in files)]) for key, files in request.FILES.lists())


class RequestInputMiddleware:
    """400 with a message for input no form could store, 413 for an upload over
    FILE_UPLOAD_MAX_BYTES, before any view (or the CSRF check) reads the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            bad = _bad_input(request)
        except UploadTooLarge:
            return render(
                request,
                "parlor/upload_too_large.html",
                {"limit": settings.FILE_UPLOAD_MAX_BYTES},
                status=413,
            )
        except MultiPartParserError:
            bad = True
        if bad:
            return render(request, "parlor/bad_input.html", status=400)
        return self.get_response(request)


# Pages an unverified user may open: the second factor itself and the way out.
_TWO_FACTOR_OPEN = {"parlor:two-factor-verify", "parlor:two-factor-setup", "logout"}


class TwoFactorMiddleware:
    """After the password, a user who must use two-factor log-in (managers) or who set it up
    passes the second factor before any other page: to the code page if they have a device,
    else (managers only) to set one up. Pages open without a log-in stay open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in _TWO_FACTOR_OPEN:
            return None
        enrolled = request.session.get(ENROLLED)
        if enrolled is None:  # a session from before two-factor log-in: look once
            enrolled = request.session[ENROLLED] = user_has_device(user)
        if enrolled:
            target = "parlor:two-factor-verify"
        elif two_factor_required(user):
            target = "parlor:two-factor-setup"
        else:
            return None
        return redirect_to_login(request.get_full_path(), reverse(target))
