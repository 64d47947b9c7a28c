"""Client forms. They validate and lay out; the views pass cleaned_data to a service."""

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Fieldset, Layout, Submit
from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from clients import selectors
from clients.allergens import allergen_label
from clients.models import COMMON_ALLERGENS, Client

_ALLERGEN_SEPARATORS = re.compile(r"[,;\n]")
# The hint and the error of a phone field show the same examples.
PHONE_EXAMPLES = {"example": "067 123 4567", "foreign": "+44 20 7946 0958"}
PHONE_HINT = _("Ukrainian numbers as %(example)s; foreign ones with the country code, e.g. %(foreign)s.")
PHONE_INVALID = _(
    "Enter a valid phone number: a Ukrainian one as %(example)s, a foreign one with its country code, e.g. %(foreign)s."
)


class AllergensField(forms.CharField):
    """Comma-separated text in the form, a list of names in cleaned_data."""

    def prepare_value(self, value):
        # Stored codes ("rose") shown in the page's language ("троянда"); the service maps them back.
        if isinstance(value, list | tuple):
            return ", ".join(allergen_label(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        return [item.strip() for item in _ALLERGEN_SEPARATORS.split(text) if item.strip()]


class ClientForm(forms.ModelForm):
    allergens = AllergensField(
        label=_("Allergens"),
        required=False,
        widget=forms.TextInput(attrs={"list": "common-allergens", "autocomplete": "off"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("The guardian consented to the massage"),
        required=False,
        help_text=_("For clients under 18: the date of consent is recorded when this is first ticked."),
    )

    class Meta:
        model = Client
        fields = [
            "full_name",
            "phone",
            "email",
            "birth_date",
            "sex",
            "language",
            "preferred_pressure",
            "allergens",
            "reminder_consent",
            "guardian_name",
            "guardian_phone",
            "notes",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(attrs={"type": "tel", "placeholder": PHONE_EXAMPLES["example"]}),
            "guardian_phone": forms.TextInput(attrs={"type": "tel", "placeholder": PHONE_EXAMPLES["example"]}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "language": _("Reminders and emails go in this language."),
        }

    def __init__(self, *args, shows_health: bool = True, **kwargs):
        """shows_health=False: for a user who may not see this client's health data (reception). The
        recorded allergens and notes are then neither shown nor changed; new allergens can be added."""
        super().__init__(*args, **kwargs)
        # Built here, not at import, so that it is in the language of the request.
        self.fields["allergens"].help_text = _("Oils, creams or aromas, separated by commas. Common: %(names)s.") % {
            "names": ", ".join(str(label) for label in COMMON_ALLERGENS.values())
        }
        preferences = ["preferred_pressure", "allergens", "notes"]
        if not shows_health and self.instance.pk:
            del self.fields["notes"]
            preferences.remove("notes")
            self.fields["allergens"].label = _("Add allergens")
            self.fields["allergens"].help_text = _(
                "Allergens already recorded are kept and not shown here. %(help)s"
            ) % {"help": self.fields["allergens"].help_text}
            self.initial["allergens"] = []
        self.fields["phone"].help_text = PHONE_HINT % PHONE_EXAMPLES
        for name in ("phone", "guardian_phone"):
            self.fields[name].error_messages["invalid"] = PHONE_INVALID % PHONE_EXAMPLES
        if self.instance.pk:
            self.fields["guardian_consent"].initial = self.instance.guardian_consent_at is not None
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(_("Client"), "full_name", "phone", "email", "birth_date", "sex", "language"),
            Fieldset(_("Preferences"), *preferences),
            Fieldset(_("Guardian (for clients under 18)"), "guardian_name", "guardian_phone", "guardian_consent"),
            Fieldset(_("Consent"), *self._consent_fields()),
            HTML(self._allergen_datalist()),
        )
        self.helper.add_input(Submit("save", _("Save")))

    def _consent_fields(self) -> list[str]:
        return ["reminder_consent"]

    @staticmethod
    def _allergen_datalist() -> str:
        options = format_html(
            "".join('<option value="{}"></option>' for _item in COMMON_ALLERGENS),
            *[str(label) for label in COMMON_ALLERGENS.values()],
        )
        return format_html('<datalist id="common-allergens">{}</datalist>', options)

    def clean(self):
        cleaned = super().clean()
        # The friendly duplicate check, with a link to the record already there;
        # the unique constraints remain the guarantee under concurrency.
        duplicates = selectors.client_duplicates(
            phone=cleaned.get("phone"), email=cleaned.get("email", ""), exclude_pk=self.instance.pk
        )
        messages = {
            "phone": _("A client with this phone already exists: %(link)s"),
            "email": _("A client with this email already exists: %(link)s"),
        }
        for field, existing in duplicates.items():
            link = format_html('<a href="{}">{}</a>', existing.get_absolute_url(), existing.full_name)
            self.add_error(field, mark_safe(conditional_escape(messages[field]) % {"link": link}))
        return cleaned


class ClientCreateForm(ClientForm):
    data_consent = forms.BooleanField(
        label=_("The client consented to the processing of personal data"),
        required=True,
        error_messages={"required": _("The client must consent to the processing of personal data.")},
    )

    def __init__(self, *args, next_steps=(), **kwargs):
        """next_steps: clients.panels.NextStep buttons beside "Save" (register, then book a course)."""
        super().__init__(*args, **kwargs)
        for step in next_steps:
            self.helper.add_input(Submit(f"then_{step.key}", step.label, css_class="btn-success"))

    def _consent_fields(self) -> list[str]:
        return ["data_consent", "reminder_consent"]


class ClientMergeForm(forms.Form):
    """Which live record the duplicate is folded into."""

    into = forms.ModelChoiceField(
        queryset=Client.objects.active(),
        label=_("Record number to keep"),
        widget=forms.NumberInput,
        error_messages={"invalid_choice": _("There is no live client with this number.")},
    )

    def __init__(self, *args, source: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Client.objects.active().exclude(pk=source.pk)


class ErasureForm(forms.Form):
    """The manager's written reason and choice before erasing a client's personal data."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the data is erased, e.g. the client's written request of a date; no names needed."),
    )
    keep_clinical_notes = forms.BooleanField(
        label=_("Keep the clinical notes, anonymised"),
        required=False,
        help_text=_(
            "Screenings, clearances and session notes stay without the client's name, phone and email. "
            "Unticked, they are deleted; that the sessions took place is kept either way."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone"),
        error_messages={"required": _("Tick this to confirm the erasure.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "", "data-testid": "erasure-form"}
        self.helper.add_input(Submit("erase", _("Erase the personal data"), css_class="btn-danger"))


class TrailFilterForm(forms.Form):
    """The dates a trail page shows, both optional and inclusive."""

    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end cannot come before the start."))
        return cleaned
