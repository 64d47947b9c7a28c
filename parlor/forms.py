"""Manager forms for the parlor's resources. They validate and lay out; the
views hand the cleaned instance to a service."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from parlor import selectors
from parlor.models import ClosedDay, MassageType, Masseur, Room, TimeOff, WorkingHours


class _CrispyModelForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save")))


class MassageTypeForm(_CrispyModelForm):
    # No code: it is technical (the rules know a type by it), made from the English name when the type
    # is added and never changed by hand (parlor.services.resource_save).
    class Meta:
        model = MassageType
        fields = [
            "name_uk",
            "name_en",
            "duration_minutes",
            "buffer_minutes",
            "price_uah",
            "requires_referral",
            "min_age",
            "course_sessions",
            "course_cadence",
            "notes",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Optional on the form: a type saved without them is not offered online as a course.
        self.fields["course_sessions"].required = False
        self.fields["course_cadence"].required = False

    def clean_course_sessions(self):
        return self.cleaned_data.get("course_sessions") or 0

    def clean_course_cadence(self):
        return self.cleaned_data.get("course_cadence") or MassageType.CourseCadence.DAILY


class RoomForm(_CrispyModelForm):
    class Meta:
        model = Room
        fields = ["name", "notes", "is_active"]


class MasseurForm(_CrispyModelForm):
    class Meta:
        model = Masseur
        fields = ["user", "display_name", "qualifications", "is_active"]
        widgets = {"qualifications": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class WorkingHoursForm(_CrispyModelForm):
    class Meta:
        model = WorkingHours
        fields = ["masseur", "weekday", "starts", "ends"]
        widgets = {
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends <= starts:
            self.add_error("ends", _("The end must be later than the start."))
            return cleaned
        masseur, weekday = cleaned.get("masseur"), cleaned.get("weekday")
        if masseur and weekday is not None and starts and ends:
            clash = selectors.working_hours_overlapping(
                masseur=masseur, weekday=weekday, starts=starts, ends=ends, exclude_pk=self.instance.pk
            )
            if clash:
                self.add_error("starts", _("Overlaps %(other)s.") % {"other": clash})
        return cleaned


class TimeOffForm(_CrispyModelForm):
    class Meta:
        model = TimeOff
        fields = ["masseur", "starts_at", "ends_at", "reason"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must be later than the start."))
            return cleaned
        masseur = cleaned.get("masseur")
        if masseur and starts_at and ends_at:
            clash = selectors.time_off_overlapping(
                masseur=masseur, starts_at=starts_at, ends_at=ends_at, exclude_pk=self.instance.pk
            )
            if clash:
                self.add_error("starts_at", _("Overlaps other time off: %(other)s.") % {"other": clash})
        return cleaned


class ClosedDayForm(forms.ModelForm):
    class Meta:
        model = ClosedDay
        fields = ["day", "reason"]
        widgets = {"day": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"reason": _("Leave empty for a public holiday: its name is shown.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_day(self):
        value = self.cleaned_data["day"]
        if value and not 2000 <= value.year <= 2100:
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return value

    def validate_unique(self):
        # Closing a day twice is not an error: the service keeps the first row.
        pass
