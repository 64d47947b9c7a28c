"""Forms of the public booking pages. They validate and lay out; the views call the services. Every one
keeps what was typed and says what is wrong beside the field."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from clients.forms import PHONE_EXAMPLES, PHONE_HINT, PHONE_INVALID
from clients.models import ADULT_AGE, MAX_AGE, Client, parlor_today, years_before
from parlor.models import MassageType, Masseur, WorkingHours
from sessions.models import OnlinePolicy, WaitlistEntry
from sessions.online import choices
from sessions.online.selectors import MAX_DAYS_AHEAD


class TypeChoiceField(forms.ModelChoiceField):
    """A massage type with its length and price, as a client chooses it."""

    def label_from_instance(self, obj: MassageType) -> str:
        return _("%(name)s · %(minutes)s min · %(price)s UAH") % {
            "name": obj.name,
            "minutes": obj.duration_minutes,
            "price": f"{obj.price_uah:.0f}",
        }


class MasseurChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Masseur) -> str:
        return obj.display_name


def _day_bounds() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    return today, today + datetime.timedelta(days=MAX_DAYS_AHEAD)


class SearchForm(forms.Form):
    """The booking page's question: which massage, with whom, which day; a single visit or a course."""

    massage_type = TypeChoiceField(
        label=_("Massage"),
        queryset=MassageType.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a massage."), "invalid_choice": _("Choose a massage from the list.")},
    )
    masseur = MasseurChoiceField(
        label=_("Masseur"),
        queryset=Masseur.objects.none(),
        required=False,
        empty_label=_("any masseur"),
        error_messages={"invalid_choice": _("Choose a masseur from the list.")},
    )
    kind = forms.ChoiceField(
        label=_("Book"),
        choices=[(choices.SINGLE, _("one visit")), (choices.COURSE, _("a course"))],
        initial=choices.SINGLE,
        required=False,
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, e.g. 2027-03-01.")},
    )
    time = forms.TimeField(
        label=_("At about (a course)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("The course's sessions are proposed close to this time."),
        error_messages={"invalid": _("Enter a time, e.g. 18:00.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["massage_type"].queryset = choices.offered_types()
        self.fields["masseur"].queryset = Masseur.objects.filter(is_active=True).order_by("display_name")
        first, last = _day_bounds()
        self.fields["day"].widget.attrs.update({"min": first.isoformat(), "max": last.isoformat()})

    def clean_day(self):
        day = self.cleaned_data.get("day")
        if day is None:
            return None
        first, last = _day_bounds()
        if day < first:
            raise forms.ValidationError(_("This day has passed."))
        if day > last:
            raise forms.ValidationError(
                _("Online we book up to %(days)s days ahead; call us for later.") % {"days": MAX_DAYS_AHEAD}
            )
        return day

    def clean(self):
        cleaned = super().clean()
        massage_type, masseur = cleaned.get("massage_type"), cleaned.get("masseur")
        if massage_type and masseur and not masseur.qualifications.filter(pk=massage_type.pk).exists():
            self.add_error("masseur", _("%(masseur)s does not do this massage.") % {"masseur": masseur.display_name})
        if cleaned.get("kind") == choices.COURSE and massage_type and massage_type.course_sessions < 1:
            self.add_error("kind", _("This massage is booked as single visits only."))
        return cleaned


class EmailForm(forms.Form):
    """Who is booking: an email for the sign-in link, and a phone for the parlor to call."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter your email."), "invalid": _("Enter a valid email address.")},
    )
    phone = PhoneNumberField(
        label=_("Phone"),
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "placeholder": PHONE_EXAMPLES["example"]}),
    )
    # The honeypot: hidden from people (parlor.css), filled in by bots; a form with it is answered as any
    # other and nothing is sent.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = PHONE_HINT % PHONE_EXAMPLES
        self.fields["phone"].error_messages["invalid"] = PHONE_INVALID % PHONE_EXAMPLES

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The code from the email"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": _("Type the six digits from the email.")},
    )


class ProfileForm(forms.Form):
    """A new client's short profile, with the consents; a minor's guardian."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = PhoneNumberField(
        label=_("Phone"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "placeholder": PHONE_EXAMPLES["example"]}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, e.g. 1985-05-17.")},
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Client.Sex.choices)
    language = forms.ChoiceField(
        label=_("Language of our emails"), choices=Client.Language.choices, initial=Client.Language.UKRAINIAN
    )
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=200, required=False)
    guardian_phone = PhoneNumberField(label=_("Guardian's phone"), required=False)
    guardian_consent = forms.BooleanField(label=_("The guardian agrees to the massage"), required=False)
    data_consent = forms.BooleanField(
        label=_("I agree that the parlor keeps and processes my personal data, health answers included"),
        error_messages={"required": _("We can book only with your consent to the processing of your data.")},
    )
    reminder_consent = forms.BooleanField(label=_("Send me reminders by email"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = PHONE_HINT % PHONE_EXAMPLES
        for name in ("phone", "guardian_phone"):
            self.fields[name].error_messages["invalid"] = PHONE_INVALID % PHONE_EXAMPLES
        self.fields["guardian_name"].help_text = _("Only for clients under %(age)s.") % {"age": ADULT_AGE}

    def clean_birth_date(self):
        day = self.cleaned_data["birth_date"]
        today = parlor_today()
        if day > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if day < years_before(today, MAX_AGE):
            raise forms.ValidationError(_("Please check the year of birth."))
        return day


class WaitlistForm(forms.Form):
    """The client's (or the front desk's) wishes for the waiting list."""

    massage_type = TypeChoiceField(
        label=_("Massage"),
        queryset=MassageType.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a massage.")},
    )
    masseur = MasseurChoiceField(
        label=_("Masseur"), queryset=Masseur.objects.none(), required=False, empty_label=_("any masseur")
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days that suit"),
        choices=[],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any day."),
    )
    windows = forms.MultipleChoiceField(
        label=_("Times of day that suit"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any time."),
    )
    until = forms.DateField(
        label=_("Until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, e.g. 2027-03-01.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["massage_type"].queryset = choices.offered_types()
        self.fields["masseur"].queryset = Masseur.objects.filter(is_active=True).order_by("display_name")
        self.fields["weekdays"].choices = WorkingHours.Weekday.choices
        self.fields["windows"].choices = WaitlistEntry.Window.choices
        if not self.is_bound and "until" not in self.initial:
            self.initial["until"] = timezone.localdate() + datetime.timedelta(days=14)

    def clean_until(self):
        until = self.cleaned_data["until"]
        today = timezone.localdate()
        if until < today:
            raise forms.ValidationError(_("This day has passed."))
        if until > today + datetime.timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(_("At most %(days)s days ahead.") % {"days": MAX_DAYS_AHEAD})
        return until

    def clean(self):
        cleaned = super().clean()
        massage_type, masseur = cleaned.get("massage_type"), cleaned.get("masseur")
        if massage_type and masseur and not masseur.qualifications.filter(pk=massage_type.pk).exists():
            self.add_error("masseur", _("%(masseur)s does not do this massage.") % {"masseur": masseur.display_name})
        return cleaned


class OnlinePolicyForm(forms.ModelForm):
    class Meta:
        model = OnlinePolicy
        fields = [
            "max_unconfirmed",
            "sign_ins_per_email",
            "sign_ins_per_network_address",
            "offer_minutes",
            "offers_at_once",
            "offer_notice_minutes",
            "waitlist_horizon_days",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "", "data-testid": "online-policy-form"}
        self.helper.add_input(Submit("save", _("Save")))
