"""Pages of the screening app. Every page that shows health details asks
screening.access.can_view_health_record; the others check a model permission."""

import mimetypes

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from clients.models import Client
from clients.trail import record_access
from parlor.view_helpers import add_errors, require_perm
from screening import diff, selectors, services
from screening.access import can_view_health_record, can_write_health_record, open_health_record
from screening.forms import ClearanceForm, ContraindicationForm, QuestionnaireSettingsForm, ScreeningForm
from screening.models import Clearance, Contraindication, QuestionnaireSettings, Screening


def _require_health(request, client, *, obj=None) -> None:
    """403 unless the user may see the client's health record; else the access trail notes this page."""
    if not open_health_record(request, client, obj=obj):
        raise PermissionDenied


def _require_write(request, client) -> None:
    # A masseur records only for the clients booked with them, as they read only theirs.
    if not can_write_health_record(request.user, client):
        raise PermissionDenied


def client_url(client) -> str:
    """The client's page, where every screening page leads back to."""
    return client.get_absolute_url()


def screening_create(request, client_pk):
    require_perm(request, "screening.add_screening")
    client = get_object_or_404(Client, pk=client_pk)
    _require_write(request, client)
    form = ScreeningForm(request.POST or None, catalogue=selectors.questionnaire(), client=client)
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_record(
                client=client,
                answers=form.answers(),
                findings=form.findings(),
                taken_by=request.user,
                source=Screening.Source.STAFF,
                submission_key=form.cleaned_data["submission_key"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The screening is recorded."))
            if can_view_health_record(request.user, client):
                return redirect(screening)
            return redirect(client_url(client))
    context = {"client": client, "form": form, "local_areas": selectors.local_areas(), "client_url": client_url(client)}
    return render(request, "screening/screening_create.html", context)


@never_cache
def screening_list(request, client_pk):
    client = get_object_or_404(Client, pk=client_pk)
    _require_health(request, client)
    context = {
        "client": client,
        "screenings": selectors.screenings_of(client=client),
        "client_url": client_url(client),
        "can_add": request.user.has_perm("screening.add_screening"),
    }
    return render(request, "screening/screening_list.html", context)


@never_cache
def screening_detail(request, pk):
    screening = selectors.screening_detail(pk=pk)
    if screening is None:
        raise Http404
    _require_health(request, screening.client, obj=screening)
    previous = selectors.screening_before(screening=screening)
    changes = diff.compare(previous, screening)
    removed = {f.code for f in changes.removed}
    context = {
        "client": screening.client,
        "screening": screening,
        "previous": previous,
        "diff": changes,
        "added": changes.added_codes,
        "changed": changes.changed_codes,
        "removed": removed,
        "client_url": client_url(screening.client),
    }
    return render(request, "screening/screening_detail.html", context)


def clearance_create(request, client_pk):
    require_perm(request, "screening.add_clearance")
    client = get_object_or_404(Client, pk=client_pk)
    _require_write(request, client)
    form = ClearanceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clearance_add(client=client, created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The clearance is added."))
            return redirect("screening:clearance-list", client_pk=client.pk)
    return render(request, "screening/clearance_create.html", {"client": client, "form": form})


@never_cache
def clearance_list(request, client_pk):
    require_perm(request, "screening.view_clearance")
    client = get_object_or_404(Client, pk=client_pk)
    today = timezone.localdate()
    clearances = selectors.clearances_of(client=client)
    context = {
        "client": client,
        "rows": [(c, c.is_valid_on(today)) for c in clearances],
        # The conditions covered, the notes and the scans; only those who may see them, and the trail says so.
        "can_view_health": open_health_record(request, client),
        "can_add": request.user.has_perm("screening.add_clearance"),
        "client_url": client_url(client),
    }
    return render(request, "screening/clearance_list.html", context)


@never_cache
def clearance_scan(request, pk):
    """The scan through a permission check: media files are never served publicly."""
    clearance = get_object_or_404(Clearance.objects.select_related("client"), pk=pk)
    if not can_view_health_record(request.user, clearance.client):
        raise PermissionDenied
    if not clearance.scan:
        raise Http404
    try:
        handle = clearance.scan.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # Only a scan actually handed over is a download worth a trail entry.
    record_access(request, client=clearance.client, obj=clearance)
    content_type = mimetypes.guess_type(clearance.scan.name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type, filename=clearance.scan.name.rsplit("/", 1)[-1])


def contraindication_list(request):
    require_perm(request, "screening.view_contraindication")
    context = {
        "entries": Contraindication.objects.all(),
        "can_change": request.user.has_perm("screening.change_contraindication"),
        "can_add": request.user.has_perm("screening.add_contraindication"),
        "can_edit_settings": request.user.has_perm("screening.change_questionnairesettings"),
    }
    return render(request, "screening/contraindication_list.html", context)


def contraindication_edit(request, pk=None):
    require_perm(request, "screening.change_contraindication" if pk else "screening.add_contraindication")
    instance = get_object_or_404(Contraindication, pk=pk) if pk else Contraindication()
    form = ContraindicationForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.contraindication_save(instance=form.save(commit=False))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("screening:contraindication-list")
    return render(request, "screening/contraindication_form.html", {"form": form, "instance": instance})


def questionnaire_settings(request):
    """The manager's settings of the questionnaires (until what age pregnancy and menstruation are asked)."""
    require_perm(request, "screening.change_questionnairesettings")
    current = QuestionnaireSettings.current()
    form = QuestionnaireSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.questionnaire_settings_update(
                settings_row=current, female_questions_until_age=form.cleaned_data["female_questions_until_age"]
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("screening:questionnaire-settings")
    return render(request, "screening/questionnaire_settings.html", {"form": form})
