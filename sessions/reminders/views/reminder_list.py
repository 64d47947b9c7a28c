"""The reception's list of every reminder email with its state and why, and the manager's reminder settings."""

from collections.abc import Sequence

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clients.models import Client
from sessions.models import Reminder, ReminderPolicy
from sessions.reminders import client_actions, desk

VIEW_REMINDER = "treatments.view_reminder"
CHANGE_POLICY = "treatments.change_reminderpolicy"
# Whoever books for the client (the front desk, the manager) may send them the questionnaire's link.
SEND_LINK = "treatments.add_appointment"
PAGE_SIZE = 50


# --- reads (a fixed number of queries: two counts and at most two slices of rows) ----------------


def reminder_rows(*, state: str = "", kind: str = "") -> QuerySet:
    """Every reminder (of the state and kind when given), newest due first, with its client and appointment
    in the same query."""
    queryset = Reminder.objects.select_related("client", "appointment", "course").order_by("-due_at", "-pk")
    if state:
        queryset = queryset.filter(state=state)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


class NearestFirst(Sequence):
    """The reminders by send time nearest to `now` first: those still to go (soonest first), then those
    gone (latest first). A sequence for the Paginator: two counts, and for a page one or two slices, each
    served by the index on due_at (treatments_reminder_due_at)."""

    def __init__(self, queryset: QuerySet, now):
        self.ahead = queryset.filter(due_at__gte=now).order_by("due_at", "pk")
        self.behind = queryset.filter(due_at__lt=now).order_by("-due_at", "-pk")
        self._ahead_count = None

    def ahead_count(self) -> int:
        if self._ahead_count is None:
            self._ahead_count = self.ahead.count()
        return self._ahead_count

    def __len__(self) -> int:
        return self.ahead_count() + self.behind.count()

    def count(self) -> int:
        return len(self)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        split = self.ahead_count()
        rows = list(self.ahead[start : min(stop, split)]) if start < split else []
        if stop > split:
            rows += list(self.behind[max(start - split, 0) : stop - split])
        return rows


class ReminderFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("all states"))] + list(Reminder.State.choices),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("all kinds"))] + list(Reminder.Kind.choices),
    )


class ReminderPolicyForm(forms.ModelForm):
    class Meta:
        model = ReminderPolicy
        fields = ["appointment_offset_hours", "cancel_cutoff_hours", "fresh_screening_days_ahead"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "", "data-testid": "policy-form"}
        self.helper.add_input(Submit("save", gettext_lazy("Save")))


# --- views --------------------------------------------------------------------------------------


def reminder_list(request):
    """Every reminder with its state, the nearest send time first, filterable by state and kind, paginated."""
    if not request.user.has_perm(VIEW_REMINDER):
        raise PermissionDenied
    filter_form = ReminderFilterForm(request.GET or None)
    valid = filter_form.is_valid()
    state = filter_form.cleaned_data["state"] if valid else ""
    kind = filter_form.cleaned_data["kind"] if valid else ""
    rows = NearestFirst(reminder_rows(state=state, kind=kind), timezone.now())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sessions/reminder_list.html",
        {
            "filter_form": filter_form,
            "state": state,
            "kind": kind,
            "query": query.urlencode(),
            "page_obj": page,
            "can_edit_policy": request.user.has_perm(CHANGE_POLICY),
        },
    )


def reminder_policy(request):
    """The manager's reminder settings: the reminder's offset, the cancel cutoff, the screening lead."""
    if not request.user.has_perm(CHANGE_POLICY):
        raise PermissionDenied
    policy = ReminderPolicy.current()
    form = ReminderPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            client_actions.reminder_policy_update(
                policy=policy,
                appointment_offset_hours=form.cleaned_data["appointment_offset_hours"],
                cancel_cutoff_hours=form.cleaned_data["cancel_cutoff_hours"],
                fresh_screening_days_ahead=form.cleaned_data["fresh_screening_days_ahead"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Reminder settings saved."))
            return redirect("sessions:reminder-policy")
    return render(request, "sessions/policy_edit.html", {"form": form})


@require_POST
def client_screening_link(request, pk):
    """From the client's page: email the questionnaire's link now (an outbox row like every reminder)."""
    if not request.user.has_perm(SEND_LINK):
        raise PermissionDenied
    client = get_object_or_404(Client, pk=pk)
    try:
        desk.screening_link_send(client=client)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The questionnaire link is on its way to %(email)s.") % {"email": client.email})
    return redirect(client)


urlpatterns = [
    path("reminders/", reminder_list, name="reminder-list"),
    path("clients/<int:pk>/questionnaire-link/", client_screening_link, name="client-screening-link"),
    path("reminders/settings/", reminder_policy, name="reminder-policy"),
]
