"""Booking forms: a course with its schedule, a single appointment, moving and cancelling.

They validate and lay out; the views pass cleaned_data to sessions.booking.services. Choices
(massage types, masseurs, rooms) are loaded once by the view and handed in, so a
schedule of 30 rows does not query the database 60 times to draw its selects.
"""

import datetime
import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from parlor.models import WorkingHours
from parlor.widgets import QuickSelect
from sessions.models import MAX_COURSE_SESSIONS, MIN_COURSE_SESSIONS, Course

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _within_the_calendar(value) -> None:
    """A date a booking can be about: "9999-12-31" parses, then the day after it overflowed (a 500)."""
    if value and not 2000 <= value.year <= 2100:
        raise ValidationError(_("Choose a date between 2000 and 2100."), code="out_of_range")


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker; shows the value in the parlor's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


class ObjectChoiceField(forms.ChoiceField):
    """A select over objects the view loaded once. `objects` are what may be chosen; `shown`
    (default: all of them) is what the list offers, e.g. only the masseurs qualified for the type,
    while an unqualified one typed into the URL still gets a clear message from the form."""

    widget = QuickSelect

    def __init__(self, *, objects=(), **kwargs):
        super().__init__(**kwargs)
        self.set_objects(objects)

    def set_objects(self, objects, shown=None) -> None:
        objects = list(objects)
        self.objects = {str(obj.pk): obj for obj in objects}
        shown = objects if shown is None else list(shown)
        self.choices = [("", "---------")] + [(str(obj.pk), str(obj)) for obj in shown]

    def valid_value(self, value) -> bool:
        return str(value) in self.objects

    def clean(self, value):
        value = super().clean(value)
        return self.objects.get(str(value)) if value not in self.empty_values else None


class ClientField(forms.Field):
    """A client by number; the list offers the search results, any live client number is accepted."""

    widget = forms.Select
    default_error_messages = {"invalid": _("There is no client with this number.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        client = Client.objects.active().filter(pk=pk).first()
        if client is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return client


def _client_label(client: Client) -> str:
    return f"{client.full_name} · {client.phone}" if client.phone else client.full_name


class BookingFormMixin:
    """The client select and the lists of types, masseurs and rooms shared by the booking forms."""

    def _setup_client(self, candidates) -> None:
        candidates = list(candidates)
        selected = self.data.get(self.add_prefix("client")) if self.is_bound else self.initial.get("client")
        selected = getattr(selected, "pk", selected)
        known = {str(c.pk) for c in candidates}
        if selected not in (None, "") and str(selected) not in known:
            extra = Client.objects.active().filter(pk=int(selected)).first() if str(selected).isdigit() else None
            if extra is not None:
                candidates.insert(0, extra)
        self.fields["client"].widget.choices = [("", _("Choose a client (search above)"))] + [
            (str(c.pk), _client_label(c)) for c in candidates
        ]

    def _setup_masseurs(self, field_name: str, masseurs, massage_type) -> None:
        masseurs = list(masseurs)
        qualified = (
            [m for m in masseurs if any(q.pk == massage_type.pk for q in m.qualifications.all())]
            if massage_type is not None
            else None
        )
        self.fields[field_name].set_objects(masseurs, shown=qualified)

    def _check_qualified(self, cleaned, field_name: str) -> None:
        masseur, massage_type = cleaned.get(field_name), cleaned.get("massage_type")
        if masseur is None or massage_type is None:
            return
        if not any(q.pk == massage_type.pk for q in masseur.qualifications.all()):
            self.add_error(
                field_name,
                _("%(masseur)s is not qualified for %(type)s.") % {"masseur": masseur, "type": massage_type},
            )

    def selected_type(self, massage_types):
        """The massage type chosen so far (bound or initial), to narrow the masseur list."""
        value = self.data.get(self.add_prefix("massage_type")) if self.is_bound else self.initial.get("massage_type")
        value = getattr(value, "pk", value)
        return next((t for t in massage_types if str(t.pk) == str(value)), None)

    def show_param_errors(self, errors: dict[str, str]) -> None:
        """Say beside each field which link parameter could not be used, on a form not yet submitted."""
        if errors:
            self._errors = forms.utils.ErrorDict(
                {name: self.error_class([message]) for name, message in errors.items()}
            )


class CourseForm(BookingFormMixin, forms.Form):
    client = ClientField(label=_("Client"))
    massage_type = ObjectChoiceField(label=_("Massage type"))
    indication = forms.ChoiceField(label=_("Indication"), choices=Course.Indication.choices)
    planned_sessions = forms.IntegerField(
        label=_("Sessions"),
        initial=10,
        help_text=_("Usually 8-10; lumbar courses at least 4-5 in a row."),
        widget=forms.NumberInput(attrs={"min": MIN_COURSE_SESSIONS, "max": MAX_COURSE_SESSIONS}),
    )
    cadence = forms.ChoiceField(
        label=_("How often"), choices=Course.Cadence.choices, initial=Course.Cadence.DAILY, widget=forms.RadioSelect
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WorkingHours.Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for the chosen-weekdays cadence."),
    )
    preferred_masseur = ObjectChoiceField(label=_("Preferred masseur"), required=False)
    preferred_time = forms.TimeField(
        label=_("Preferred time of day"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Morning when stiffness is worst; evening for relaxing work or evening pain."),
    )
    start_date = forms.DateField(
        label=_("Start date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[_within_the_calendar],
    )
    override_reason = forms.CharField(
        label=_("Override reason (manager)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when the screening blocks massage: why the course is booked anyway."),
    )
    await_clearance = forms.BooleanField(
        label=_("Book the sessions awaiting the screening or the doctor's clearance"),
        required=False,
        help_text=_(
            "The client answers the screening (a new caller by the emailed link) or brings a doctor's note: the "
            "sessions keep their slots and become bookable by themselves once it is recorded; until then none "
            "can start."
        ),
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, candidates=(), massage_types=(), masseurs=(), may_override=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["massage_type"].set_objects(massage_types)
        self._setup_masseurs("preferred_masseur", masseurs, self.selected_type(massage_types))
        self._setup_client(candidates)
        self.fields["start_date"].initial = timezone.localdate()
        self.fields["request_key"].initial = uuid.uuid4()
        if not may_override:
            del self.fields["override_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Div(
                Div("client", css_class="col-md-6"),
                Div("massage_type", css_class="col-md-3"),
                Div("indication", css_class="col-md-3"),
                css_class="row",
            ),
            Div(
                Div("planned_sessions", css_class="col-md-2"),
                Div("cadence", css_class="col-md-3"),
                Div(Field("weekdays", wrapper_class="weekday-checks"), css_class="col-md-3"),
                Div("preferred_masseur", "preferred_time", css_class="col-md-2"),
                Div("start_date", css_class="col-md-2"),
                css_class="row",
            ),
            "request_key",
        )

    def clean_planned_sessions(self):
        value = self.cleaned_data["planned_sessions"]
        if not MIN_COURSE_SESSIONS <= value <= MAX_COURSE_SESSIONS:
            raise ValidationError(
                _("A course has from %(min)s to %(max)s sessions.")
                % {"min": MIN_COURSE_SESSIONS, "max": MAX_COURSE_SESSIONS}
            )
        return value

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        if value < timezone.localdate():
            raise ValidationError(_("The course cannot start in the past."))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("cadence") == Course.Cadence.WEEKDAYS and not cleaned.get("weekdays"):
            self.add_error("weekdays", _("Choose at least one weekday."))
        self._check_qualified(cleaned, "preferred_masseur")
        return cleaned


class SessionRowForm(forms.Form):
    """One session of a proposed schedule, as the receptionist may change it."""

    starts_at = forms.DateTimeField(label=_("Start"), widget=DateTimeLocalInput, validators=[_within_the_calendar])
    masseur = ObjectChoiceField(label=_("Masseur"))
    room = ObjectChoiceField(label=_("Room"))

    def __init__(self, *args, masseurs=(), rooms=(), massage_type=None, shown_masseurs=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer the masseurs qualified for the course's type; booking still checks whoever is posted.
        if shown_masseurs is None and massage_type is not None:
            shown_masseurs = qualified_masseurs(masseurs, massage_type)
        self.fields["masseur"].set_objects(masseurs, shown=shown_masseurs)
        self.fields["room"].set_objects(rooms)
        # Drawn by hand in a table row, not by crispy: the Bootstrap classes go on the widgets.
        for name, field in self.fields.items():
            css = (
                "form-select form-select-sm" if isinstance(field, ObjectChoiceField) else "form-control form-control-sm"
            )
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            field.widget.attrs["class"] = css


def qualified_masseurs(masseurs, massage_type) -> list:
    """The masseurs (qualifications prefetched) qualified for the massage type."""
    return [m for m in masseurs if any(q.pk == massage_type.pk for q in m.qualifications.all())]


class BaseSessionFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        # Whom every row offers, worked out once for the schedule rather than once a row.
        kwargs = super().get_form_kwargs(index)
        if kwargs.get("massage_type") is not None and "shown_masseurs" not in kwargs:
            if not hasattr(self, "_shown_masseurs"):
                self._shown_masseurs = qualified_masseurs(kwargs.get("masseurs", ()), kwargs["massage_type"])
            kwargs["shown_masseurs"] = self._shown_masseurs
        return kwargs

    def clean(self):
        if any(self.errors):
            return
        if not any(form.cleaned_data for form in self.forms):
            raise ValidationError(_("The schedule has no sessions."))


SessionFormSet = forms.formset_factory(
    SessionRowForm, formset=BaseSessionFormSet, extra=0, max_num=MAX_COURSE_SESSIONS, validate_max=True
)


class AppointmentBookForm(BookingFormMixin, forms.Form):
    client = ClientField(label=_("Client"))
    massage_type = ObjectChoiceField(label=_("Massage type"))
    masseur = ObjectChoiceField(label=_("Masseur"))
    room = ObjectChoiceField(label=_("Room"))
    starts_at = forms.DateTimeField(label=_("Start"), widget=DateTimeLocalInput, validators=[_within_the_calendar])
    override_reason = forms.CharField(
        label=_("Override reason (manager)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when the screening blocks massage: why the session is booked anyway."),
    )
    request_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, candidates=(), massage_types=(), masseurs=(), rooms=(), may_override=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["massage_type"].set_objects(massage_types)
        self._setup_masseurs("masseur", masseurs, self.selected_type(massage_types))
        self.fields["room"].set_objects(rooms)
        self._setup_client(candidates)
        self.fields["request_key"].initial = uuid.uuid4()
        if not may_override:
            del self.fields["override_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self):
        cleaned = super().clean()
        self._check_qualified(cleaned, "masseur")
        return cleaned

    @classmethod
    def initial_from_params(cls, params, *, massage_types, masseurs, rooms) -> tuple[dict, dict[str, str]]:
        """What a calendar slot's link (masseur, room, starts_at, massage_type, client) pre-fills, and a
        message for each parameter that names nothing or cannot be read."""
        initial: dict = {}
        errors: dict[str, str] = {}
        lookups = {
            "massage_type": (massage_types, _("There is no such massage type.")),
            "masseur": (masseurs, _("There is no such masseur.")),
            "room": (rooms, _("There is no such room.")),
        }
        for name, (objects, message) in lookups.items():
            value = params.get(name, "").strip()
            if value:
                found = next((obj for obj in objects if str(obj.pk) == value), None)
                if found is None:
                    errors[name] = message
                else:
                    initial[name] = found.pk
        value = params.get("client", "").strip()
        if value:
            if value.isdigit() and Client.objects.active().filter(pk=int(value)).exists():
                initial["client"] = int(value)
            else:
                errors["client"] = str(ClientField.default_error_messages["invalid"])
        value = params.get("starts_at", "").strip()
        if value:
            starts_at = parse_instant(value)
            if starts_at is None:
                errors["starts_at"] = _("The start in the link is not a date and time; choose it here.")
            else:
                initial["starts_at"] = timezone.localtime(starts_at)
        return initial, errors


def parse_instant(value: str) -> datetime.datetime | None:
    """An ISO 8601 date and time; without an offset it is read as Kyiv time. None if unreadable."""
    try:
        parsed = parse_datetime(value.replace(" ", "+"))  # a "+" in a query string arrives as a space
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class AppointmentMoveForm(BookingFormMixin, forms.Form):
    starts_at = forms.DateTimeField(label=_("New start"), widget=DateTimeLocalInput, validators=[_within_the_calendar])
    masseur = ObjectChoiceField(label=_("Masseur"))
    room = ObjectChoiceField(label=_("Room"))
    override_reason = forms.CharField(
        label=_("Override reason (manager)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when the screening blocks massage: why the session is booked anyway."),
    )

    def __init__(self, *args, appointment, masseurs=(), rooms=(), may_override=False, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "starts_at": timezone.localtime(appointment.starts_at),
                "masseur": appointment.masseur_id,
                "room": appointment.room_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self._setup_masseurs("masseur", masseurs, appointment.massage_type)
        self.fields["room"].set_objects(rooms)
        if not may_override:
            del self.fields["override_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self):
        cleaned = super().clean()
        cleaned["massage_type"] = self.appointment.massage_type
        self._check_qualified(cleaned, "masseur")
        del cleaned["massage_type"]
        return cleaned


class ReasonForm(forms.Form):
    """Why an appointment or the rest of a course is cancelled."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the client called: ill")}),
        error_messages={"required": _("Say why it is cancelled.")},
    )

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        if submit_label:
            self.helper.add_input(Submit("cancel", submit_label, css_class="btn-danger"))


class CourseExtendForm(forms.Form):
    count = forms.IntegerField(label=_("Sessions to add"), initial=1, min_value=1)

    def __init__(self, *args, room_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.room_left = room_left
        self.fields["count"].widget.attrs.update({"min": 1, "max": max(room_left, 1)})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_count(self):
        value = self.cleaned_data["count"]
        if value > self.room_left:
            raise ValidationError(
                _("Sessions that can still be added: %(left)s (a course has at most %(max)s).")
                % {"max": MAX_COURSE_SESSIONS, "left": self.room_left}
            )
        return value


class CourseShortenForm(ReasonForm):
    count = forms.IntegerField(label=_("Sessions to cancel from the end"), initial=1, min_value=1)
    # The last upcoming session when the page was shown: a second submit must not cancel N more.
    expect_last = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, upcoming: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.upcoming = upcoming
        self.fields["count"].widget.attrs.update({"min": 1, "max": max(upcoming, 1)})
        self.order_fields(["count", "reason", "expect_last"])

    def clean_count(self):
        value = self.cleaned_data["count"]
        if value > self.upcoming:
            raise ValidationError(_("Upcoming sessions that can be cancelled: %(count)s.") % {"count": self.upcoming})
        return value


class ReleaseForm(forms.Form):
    """Release a hold; the reason only when a manager overrides a block that remains."""

    override_reason = forms.CharField(
        label=_("Override reason (manager)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Why the session goes ahead although massage is contraindicated; it covers the present blocks only."
        ),
    )
