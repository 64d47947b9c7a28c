"""Forms of the screening app. They validate and lay out; the views call the services."""

import datetime
import uuid

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Hidden, Layout, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.allergens import allergen_code
from clients.models import parlor_today
from parlor.limits import NOTE_MAX
from parlor.models import MassageType
from screening.models import ISSUED_IN_FUTURE, Clearance, Contraindication, QuestionnaireSettings
from screening.services import PREGNANCY_WEEKS, FindingInput
from screening.validators import validate_scan

PREGNANCY = "pregnancy"
PRODUCT_KIND = Contraindication.Kind.PRODUCT


def _split_allergens(text: str) -> list[str]:
    parts = text.replace(";", ",").replace("\n", ",").split(",")
    seen: list[str] = []
    for part in parts:
        # "Троянда" or "rose": the common ones by their code, as the client record keeps them.
        name = allergen_code(part) if part.strip() else ""
        if name and name not in seen:
            seen.append(name)
    return seen


# Asked of female clients only, and not from the manager's age limit on (QuestionnaireSettings).
FEMALE_ONLY = frozenset({"pregnancy", "menstruation"})
ANSWER_REQUIRED = _("Answer yes or no.")


def asks_female_questions(client, *, on: datetime.date) -> bool:
    """Pregnancy and menstruation are asked of female clients younger than the manager's age limit."""
    from clients.models import Client

    if client.sex != Client.Sex.FEMALE or client.birth_date is None:
        return False
    age = on.year - client.birth_date.year - ((on.month, on.day) < (client.birth_date.month, client.birth_date.day))
    return age < QuestionnaireSettings.current().female_questions_until_age


def questions_for(catalogue: list[Contraindication], *, client, on: datetime.date) -> list[Contraindication]:
    """The questions that can apply to this client in a screening: never the day-of ones (asked at check-in,
    on the day), pregnancy only where asks_female_questions says so."""
    female = asks_female_questions(client, on=on)
    return [e for e in catalogue if not e.is_day_of and (female or e.code not in FEMALE_ONLY)]


class ScreeningForm(forms.Form):
    """One yes/no question per catalogue entry that can apply to the client, none answered beforehand:
    the form refuses to save until each is answered.

    Field names: `q_<code>` (yes/no) and `note_<code>` per entry; plus `pregnancy_weeks` and `allergens`
    for the details the rules read. `self_report`: the client fills it in and is spoken to.
    """

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    pregnancy_weeks = forms.IntegerField(
        label=_("Weeks of pregnancy"),
        required=False,
        min_value=PREGNANCY_WEEKS.start,
        max_value=PREGNANCY_WEEKS.stop - 1,
        help_text=_("Leave empty when she does not know; the first trimester means no massage."),
    )
    allergens = forms.CharField(
        label=_("Allergens"),
        required=False,
        max_length=300,
        help_text=_("Oils, creams or aromas, separated by commas: rose, orange."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args,
        catalogue: list[Contraindication],
        client,
        self_report: bool = False,
        today: datetime.date | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("submission_key"):
            self.initial["submission_key"] = uuid.uuid4()
        self.self_report = self_report
        self.catalogue = questions_for(catalogue, client=client, on=today or timezone.localdate())
        if self_report:
            self.fields["pregnancy_weeks"].help_text = _("Leave it empty if you do not know.")
            self.fields["allergens"].label = _("What are you allergic to?")
            self.fields["notes"].label = _("Anything else we should know")
        for entry in self.catalogue:
            self.fields[f"q_{entry.code}"] = forms.TypedChoiceField(
                label=entry.question,
                choices=[("no", _("No")), ("yes", _("Yes"))],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
                error_messages={"required": ANSWER_REQUIRED},
            )
            # No label of its own: the question above is its label, the placeholder says what it is.
            self.fields[f"note_{entry.code}"] = forms.CharField(
                label="",
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"aria-label": _("Note"), "class": "form-control-sm"}),
            )
        self.helper = FormHelper()
        # The server says what is missing beside each question, in the page's language.
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = self._layout()
        self.helper.add_input(Submit("save", _("Record the screening")))

    def _questions(self, entries):
        rows = []
        placeholder = _("Where or what exactly (optional)") if self.self_report else _("Note (optional)")
        for entry in entries:
            rows.append(InlineRadios(f"q_{entry.code}", wrapper_class="mb-0"))
            if entry.code == PREGNANCY:
                rows.append(Div(Field("pregnancy_weeks"), css_class="ms-4"))
            if entry.kind == PRODUCT_KIND:
                rows.append(Div(Field("allergens"), css_class="ms-4"))
            rows.append(Field(f"note_{entry.code}", placeholder=placeholder, wrapper_class="mb-3 ms-4"))
        return rows

    def _layout(self) -> Layout:
        # A form shown again with its errors keeps the key it was first shown with.
        key = self.data.get(self.add_prefix("submission_key"), "") if self.is_bound else ""
        parts = [Hidden("submission_key", key or self.initial.get("submission_key", ""))]
        parts.append(Fieldset(_("Your health") if self.self_report else _("Health"), *self._questions(self.catalogue)))
        parts.append(Field("notes"))
        # Fields placed explicitly above; the hidden key must not render twice.
        return Layout(*parts)

    def clean(self):
        cleaned = super().clean()
        allergy = any(e.kind == PRODUCT_KIND and cleaned.get(f"q_{e.code}") for e in self.catalogue)
        if allergy and not _split_allergens(cleaned.get("allergens") or ""):
            message = (
                _("Name the oil, cream or aroma you are allergic to.")
                if self.self_report
                else _("Name the oil, cream or aroma the client is allergic to.")
            )
            self.add_error("allergens", message)
        return cleaned

    def findings(self) -> list[FindingInput]:
        """The "yes" answers as findings with their details."""
        result = []
        for entry in self.catalogue:
            if not self.cleaned_data.get(f"q_{entry.code}"):
                continue
            details: dict = {}
            if entry.code == PREGNANCY and self.cleaned_data.get("pregnancy_weeks") is not None:
                details["pregnancy_weeks"] = self.cleaned_data["pregnancy_weeks"]
            if entry.kind == PRODUCT_KIND:
                details["allergens"] = _split_allergens(self.cleaned_data.get("allergens") or "")
            result.append(
                FindingInput(
                    contraindication=entry, note=self.cleaned_data.get(f"note_{entry.code}", ""), details=details
                )
            )
        return result

    def answers(self) -> dict:
        """The questionnaire as asked and answered, question texts included."""
        return {
            "questions": {
                entry.code: {
                    "question": entry.question,
                    "answer": bool(self.cleaned_data.get(f"q_{entry.code}")),
                    "note": self.cleaned_data.get(f"note_{entry.code}", ""),
                    "day_of": entry.is_day_of,
                }
                for entry in self.catalogue
            },
            "pregnancy_weeks": self.cleaned_data.get("pregnancy_weeks"),
            "allergens": _split_allergens(self.cleaned_data.get("allergens") or ""),
        }


class ClearanceForm(forms.ModelForm):
    class Meta:
        model = Clearance
        fields = [
            "kind",
            "doctor_name",
            "issued_on",
            "valid_until",
            "covers_massage_type",
            "covers_contraindication",
            "scan",
            "notes",
        ]
        widgets = {
            "issued_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "scan": forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        }
        help_texts = {"scan": _("PDF, JPEG or PNG, at most 10 MB.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["covers_massage_type"].queryset = MassageType.objects.active()
        self.fields["covers_contraindication"].queryset = Contraindication.objects.active().exclude(
            kind=Contraindication.Kind.LOCAL
        )
        self.helper = FormHelper()
        self.helper.form_enctype = "multipart/form-data"
        self.helper.add_input(Submit("save", _("Add the clearance")))

    def clean(self):
        cleaned = super().clean()
        issued_on, valid_until = cleaned.get("issued_on"), cleaned.get("valid_until")
        if issued_on and valid_until and valid_until < issued_on:
            self.add_error("valid_until", _("It cannot end before it was issued."))
        if issued_on and issued_on > parlor_today():
            self.add_error("issued_on", ISSUED_IN_FUTURE)
        if not cleaned.get("covers_massage_type") and not cleaned.get("covers_contraindication"):
            self.add_error(
                "covers_contraindication", _("Say what it covers: a contraindication, a massage type or both.")
            )
        return cleaned

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan:
            validate_scan(scan)
        return scan

    def _post_clean(self):
        # The service builds and validates the row (scan renamed by its bytes);
        # the model's own checks here would only repeat the messages above.
        pass


class ContraindicationForm(forms.ModelForm):
    class Meta:
        model = Contraindication
        fields = [
            "code",
            "kind",
            "name_uk",
            "name_en",
            "question_uk",
            "question_en",
            "guidance_uk",
            "guidance_en",
            "is_day_of",
            "is_active",
            "ordering",
        ]
        widgets = {"guidance_uk": forms.Textarea(attrs={"rows": 3}), "guidance_en": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The rules know entries by code; renaming one would detach its rule.
            self.fields["code"].disabled = True
            self.fields["kind"].disabled = True
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save")))


class QuestionnaireSettingsForm(forms.ModelForm):
    class Meta:
        model = QuestionnaireSettings
        fields = ["female_questions_until_age"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "", "data-testid": "questionnaire-settings-form"}
        self.helper.add_input(Submit("save", _("Save")))
