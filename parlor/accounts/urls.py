from django.contrib.auth.decorators import login_not_required
from django.urls import path

from parlor.accounts import views

# Included in the "parlor" namespace by parlor/urls.py.
urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/password/", views.PasswordChange.as_view(), name="password-change"),
    path("account/two-factor/setup/", views.two_factor_setup, name="two-factor-setup"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("account/two-factor/recovery-codes/", views.recovery_codes_new, name="recovery-codes"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    # The one-time link of a password reset: no log-in, the token is the proof (never logged:
    # parlor.logredact).
    path(
        "account/reset/<uidb64>/<token>/",
        login_not_required(views.PasswordResetConfirm.as_view()),
        name="password-reset-confirm",
    ),
    path(
        "account/reset/done/",
        login_not_required(views.PasswordResetComplete.as_view()),
        name="password-reset-complete",
    ),
    path("security/events/", views.security_event_list, name="security-events"),
]
