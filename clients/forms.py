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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not at import, so that it is in the language of the request.
        self.fields["allergens"].help_text = _("Oils, creams or aromas, separated by commas. Common: %(names)s.") % {
            "names": ", ".join(str(label) for label in COMMON_ALLERGENS.values())
        }
        self.fields["phone"].help_text = PHONE_HINT % PHONE_EXAMPLES
        for name in ("phone", "guardian_phone"):
            self.fields[name].error_messages["invalid"] = PHONE_INVALID % PHONE_EXAMPLES
        if self.instance.pk:
            self.fields["guardian_consent"].initial = self.instance.guardian_consent_at is not None
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(_("Client"), "full_name", "phone", "email", "birth_date", "sex", "language"),
            Fieldset(_("Preferences"), "preferred_pressure", "allergens", "notes"),
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
