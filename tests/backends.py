"""Test-only authentication backend (parlor/settings_test.py)."""

from axes.backends import AxesStandaloneBackend


class ClientLoginAxesBackend(AxesStandaloneBackend):
    """django-axes refuses an authenticate() without the request, and Django's test
    Client.login() calls it so. Here only, such a call skips the throttle; every request through
    the log-in page (what tests/parlor/test_throttling.py drives) is throttled as in production."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
