"""The front desk's waiting-list form: the client's wishes (as the client's own online form), which of
the client's courses the session belongs to, and the manager's priority."""

from django import forms
from django.utils.translation import gettext_lazy as _

from parlor.formats import day_long
from sessions.models import Course
from sessions.online.forms import WaitlistForm


class CourseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Course) -> str:
        return _("%(type)s × %(count)s, from %(day)s") % {
            "type": obj.massage_type.name,
            "count": obj.planned_sessions,
            "day": day_long(obj.created_at),
        }


class DeskWaitlistForm(WaitlistForm):
    course = CourseChoiceField(
        label=_("A session of the course"),
        queryset=Course.objects.none(),
        required=False,
        empty_label=_("a single visit"),
        help_text=_("A client with a course comes before single visits."),
    )
    priority = forms.BooleanField(label=_("Put first (manager)"), required=False)

    def __init__(self, *args, client, may_prioritise: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = (
            Course.objects.filter(client=client, status__in=[Course.Status.PLANNED, Course.Status.ACTIVE])
            .select_related("massage_type")
            .order_by("-created_at")
        )
        if not may_prioritise:
            del self.fields["priority"]

    def clean(self):
        cleaned = super().clean()
        course, massage_type = cleaned.get("course"), cleaned.get("massage_type")
        if course and massage_type and course.massage_type_id != massage_type.pk:
            self.add_error("course", _("The course is of another massage type."))
        return cleaned
