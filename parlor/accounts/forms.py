"""Forms of the account pages; they validate and lay out."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from parlor.models import SecurityEvent


def _helper(button: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", button))
    return helper


class TokenForm(forms.Form):
    """The second factor at log-in: a code from the authenticator app or a recovery code."""

    token = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Continue"))


class TotpConfirmForm(forms.Form):
    """One code from a newly added authenticator proves it is set up right."""

    token = forms.RegexField(
        label=_("Code from the app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Type the 6 digits the app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Turn on two-factor log-in"))

    def clean_token(self):
        return self.cleaned_data["token"].strip()


class CrispyPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Change my password"))


class CrispySetPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Set my password"))


class SecurityEventFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", _("All events")), *SecurityEvent.Kind.choices]
    )
    username = forms.CharField(label=_("Username"), required=False, max_length=150)
