"""Forms of the masseur's pages: the day-of check, the session log and its addenda.
They validate and lay out; the views call the services."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from parlor.limits import NOTE_MAX
from sessions.care.checkin import SELF_REPORT_FIELD, DayOfAnswers
from sessions.care.logs import LogInput
from sessions.models import AREA_CHOICES, DURATION_MAX, DURATION_MIN, PAIN_MAX, PAIN_MIN, SessionLog

TECHNIQUE_STEPS = 8
YES_NO = [("no", _("no")), ("yes", _("yes"))]
NOT_APPLICABLE = "n/a"
ANSWER_REQUIRED = _("Answer yes or no.")


def _yes_no(label, *, not_applicable: bool = False):
    # Nothing pre-selected: a question nobody asked must not pass for a "no".
    choices = YES_NO + ([(NOT_APPLICABLE, _("not applicable"))] if not_applicable else [])
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=lambda v: None if v == NOT_APPLICABLE else v == "yes",
        empty_value="",
        widget=forms.RadioSelect,
        error_messages={"required": ANSWER_REQUIRED},
    )


class DayOfCheckForm(forms.Form):
    fever = _yes_no(_("Raised temperature today?"))
    intoxication = _yes_no(_("Alcohol or other substances today?"))
    # Not applicable is a real answer: no periods (menopause, pregnancy, a medical reason).
    menstruation = _yes_no(_("Menstruating today?"), not_applicable=True)
    acute_pain = _yes_no(_("Acute back pain today?"))

    def __init__(self, *args, ask_menstruation: bool = True, self_reported=None, **kwargs):
        """self_reported: the client's latest screening when they filled it in themselves; the masseur must
        confirm going through it, and the page's screening id travels with the form."""
        super().__init__(*args, **kwargs)
        if not ask_menstruation:
            del self.fields["menstruation"]
        if self_reported is not None:
            self.fields[SELF_REPORT_FIELD] = forms.BooleanField(
                label=_("I went through the self-reported answers with the client"),
                required=True,
                error_messages={
                    "required": _("Go through the self-reported answers with the client before the session starts.")
                },
                widget=forms.CheckboxInput(attrs={"data-testid": "checkin-self-report-confirm"}),
            )
            self.fields["confirmed_screening"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=self_reported.pk, required=False
            )
        self.helper = FormHelper()
        self.helper.form_tag = True
        self.helper.attrs = {"data-testid": "checkin-form", "novalidate": ""}
        self.helper.add_input(Submit("check_in", _("Check in and start"), css_class="btn-primary"))

    def answers(self) -> DayOfAnswers:
        data = self.cleaned_data
        return DayOfAnswers(
            fever=data["fever"],
            intoxication=data["intoxication"],
            menstruation=data.get("menstruation") if "menstruation" in self.fields else None,
            acute_pain=data["acute_pain"],
        )

    def confirmed_screening_id(self) -> int | None:
        """The self-reported screening the page showed, when the masseur ticked the box."""
        if not self.cleaned_data.get(SELF_REPORT_FIELD):
            return None
        return self.cleaned_data.get("confirmed_screening")


def split_products(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        name = part.strip()
        if name and name.lower() not in (s.lower() for s in seen):
            seen.append(name)
    return seen


class SessionLogForm(forms.Form):
    """Techniques as numbered steps (an ordered list without JavaScript), areas as checkboxes."""

    log_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    areas_worked = forms.MultipleChoiceField(
        label=_("Areas worked"), choices=AREA_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    areas_avoided = forms.MultipleChoiceField(
        label=_("Areas avoided"), choices=AREA_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=SessionLog.Direction.choices, widget=forms.RadioSelect)
    pressure = forms.ChoiceField(label=_("Pressure"), choices=SessionLog.Pressure.choices, widget=forms.RadioSelect)
    # Range checks live in the service's rules, so a wrong number gets the same
    # message here as anywhere else; the form only insists on a whole number.
    pain_before = forms.IntegerField(
        label=_("Pain before (0-10)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": PAIN_MIN, "max": PAIN_MAX}),
    )
    pain_after = forms.IntegerField(
        label=_("Pain after (0-10)"), required=False, widget=forms.NumberInput(attrs={"min": PAIN_MIN, "max": PAIN_MAX})
    )
    products = forms.CharField(
        label=_("Products used"),
        required=False,
        max_length=500,
        help_text=_("Oils, creams, talc, separated by commas."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Actual duration, minutes"),
        required=False,
        widget=forms.NumberInput(attrs={"min": DURATION_MIN, "max": DURATION_MAX}),
    )
    subjective = forms.CharField(
        label=_("Subjective"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the client says."),
    )
    objective = forms.CharField(
        label=_("Objective"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you found."),
    )
    assessment = forms.CharField(
        label=_("Assessment"), required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    plan = forms.CharField(
        label=_("Plan"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Next session."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *SessionLog.Technique.choices]
        steps = []
        for number in range(1, TECHNIQUE_STEPS + 1):
            name = f"technique_{number}"
            self.fields[name] = forms.ChoiceField(
                label=_("Step %(number)s") % {"number": number}, choices=choices, required=False
            )
            steps.append(Div(Field(name), css_class="col-6 col-md-3"))
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "sessionlog-form", "novalidate": ""}
        self.helper.layout = Layout(
            Field("log_id"),
            Fieldset(_("Techniques, in the order done"), Div(*steps, css_class="row")),
            Div(
                Div(Field("areas_worked"), css_class="col-md-6"),
                Div(Field("areas_avoided"), css_class="col-md-6"),
                css_class="row",
            ),
            Div(
                Div(Field("direction"), css_class="col-md-4"),
                Div(Field("pressure"), css_class="col-md-4"),
                Div(Field("duration_minutes"), css_class="col-md-4"),
                css_class="row",
            ),
            Div(
                Div(Field("pain_before"), css_class="col-md-3"),
                Div(Field("pain_after"), css_class="col-md-3"),
                Div(Field("products"), css_class="col-md-6"),
                css_class="row",
            ),
            Fieldset(_("Notes (SOAP)"), "subjective", "objective", "assessment", "plan"),
        )
        self.helper.add_input(Submit("save", _("Save draft"), css_class="btn-outline-primary"))
        self.helper.add_input(Submit("sign", _("Sign"), css_class="btn-primary"))

    @staticmethod
    def initial_for(*, log: SessionLog | None, verdict, must_avoid: list[str]) -> dict:
        """The form's starting values: the draft's, or the standard order, the areas to avoid (those the notes
        beside findings name included) and the verdict's direction for a new log."""
        if log is not None:
            initial = {
                name: getattr(log, name)
                for name in vars(LogInput())
                if name not in ("techniques", "products") and hasattr(log, name)
            }
            initial["products"] = ", ".join(log.products)
            initial["log_id"] = log.pk
            techniques = log.techniques
        else:
            initial = {
                "areas_avoided": must_avoid,
                "direction": verdict.direction,
                "pressure": SessionLog.Pressure.MEDIUM,
                "log_id": None,
            }
            from sessions.models import standard_techniques

            techniques = standard_techniques()
        for number, technique in enumerate(techniques[:TECHNIQUE_STEPS], start=1):
            initial[f"technique_{number}"] = technique
        return initial

    def log_input(self) -> LogInput:
        data = self.cleaned_data
        return LogInput(
            techniques=[data[f"technique_{n}"] for n in range(1, TECHNIQUE_STEPS + 1) if data.get(f"technique_{n}")],
            areas_worked=list(data["areas_worked"]),
            areas_avoided=list(data["areas_avoided"]),
            direction=data["direction"],
            pressure=data["pressure"],
            pain_before=data["pain_before"],
            pain_after=data["pain_after"],
            products=split_products(data["products"]),
            duration_minutes=data["duration_minutes"],
            subjective=data["subjective"],
            objective=data["objective"],
            assessment=data["assessment"],
            plan=data["plan"],
        )


class AddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "addendum-form"}
        self.helper.add_input(Submit("add", _("Add addendum"), css_class="btn-outline-primary"))
