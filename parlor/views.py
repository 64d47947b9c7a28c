"""Pages of the parlor app: dashboard, health check, manager screens."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST

from parlor import closures, selectors, services
from parlor import dashboard as dashboard_panels
from parlor.formats import day_long
from parlor.forms import ClosedDayForm
from parlor.models import ClosedDay
from parlor.resources import RESOURCES, after_save_url
from parlor.view_helpers import add_errors, require_perm


def dashboard(request):
    today = timezone.localdate()
    context = {
        "today": today,
        "working_today": selectors.masseurs_working_on(today),
        "panels": dashboard_panels.render_panels(request, today),
    }
    return render(request, "parlor/dashboard.html", context)


@login_not_required
@never_cache
def healthz(request):
    """200 when PostgreSQL and Redis both answer, 503 otherwise, with each one's state."""
    from parlor.health import database_status, redis_status

    report = {"database": database_status(connection), "redis": redis_status()}
    healthy = all(state == "ok" for state in report.values())
    return JsonResponse({"status": "ok" if healthy else "error", **report}, status=200 if healthy else 503)


def _resource_or_404(slug: str, request, action: str):
    resource = RESOURCES.get(slug)
    if resource is None:
        raise Http404
    if not request.user.has_perm(resource.perm(action)):
        raise PermissionDenied
    return resource


def _cell(obj, attribute: str):
    value = getattr(obj, attribute)
    if callable(value) and not hasattr(value, "all"):
        value = value()
    if hasattr(value, "all"):
        return ", ".join(str(item) for item in value.all())
    return value


def resource_list(request, slug):
    resource = _resource_or_404(slug, request, "view")
    rows = [(obj, [_cell(obj, attr) for attr, _heading in resource.columns]) for obj in resource.queryset()]
    return render(
        request,
        "parlor/resource_list.html",
        {
            "resource": resource,
            "rows": rows,
            "can_add": request.user.has_perm(resource.perm("add")),
            "can_change": request.user.has_perm(resource.perm("change")),
        },
    )


def resource_edit(request, slug, pk=None):
    resource = _resource_or_404(slug, request, "change" if pk else "add")
    instance = get_object_or_404(resource.model, pk=pk) if pk else resource.model()
    form = resource.form(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        m2m = {f.name: form.cleaned_data[f.name] for f in resource.model._meta.many_to_many if f.name in form.fields}
        try:
            saved = services.resource_save(instance=form.save(commit=False), m2m=m2m)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(after_save_url(slug, request, saved) or reverse("parlor:resource-list", args=[slug]))
    context = {
        "resource": resource,
        "form": form,
        "instance": instance,
        "can_delete": request.user.has_perm(resource.perm("delete")),
    }
    return render(request, "parlor/resource_form.html", context)


def resource_delete(request, slug, pk):
    """A GET asks to confirm; only the POST of that page deletes."""
    resource = _resource_or_404(slug, request, "delete")
    instance = get_object_or_404(resource.model, pk=pk)
    if request.method != "POST":
        return render(request, "parlor/resource_delete.html", {"resource": resource, "instance": instance})
    try:
        services.resource_delete(instance=instance)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deleted."))
    return redirect("parlor:resource-list", slug=slug)


# How far ahead the manager's page lists the public holidays to decide on.
HOLIDAYS_AHEAD = datetime.timedelta(days=366)


def closed_days(request):
    """The manager's calendar of closed days: Ukraine's public holidays of the next year, each open or
    closed, and any other day to close. Two queries beyond the user's."""
    require_perm(request, "parlor.view_closedday")
    may_change = request.user.has_perm("parlor.add_closedday")
    form = ClosedDayForm(request.POST or None)
    if request.method == "POST":
        require_perm(request, "parlor.add_closedday")
        if form.is_valid():
            try:
                closed = services.closed_day_add(
                    day=form.cleaned_data["day"], reason=form.cleaned_data["reason"], by=request.user
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("The parlor is closed on %(day)s.") % {"day": day_long(closed.day)})
                return redirect("parlor:closed-days")
    today = timezone.localdate()
    holiday_names = closures.public_holidays(today, today + HOLIDAYS_AHEAD)
    closed = {c.day: c for c in ClosedDay.objects.filter(day__gte=today).select_related("created_by")}
    context = {
        "form": form,
        "may_change": may_change,
        "holidays": [(day, name, closed.get(day)) for day, name in holiday_names.items()],
        "closed": [(c, closures.closed_reason(c, holiday_names)) for c in sorted(closed.values(), key=lambda c: c.day)],
    }
    return render(request, "parlor/closed_days.html", context, status=400 if form.errors else 200)


@require_POST
def closed_day_delete(request, pk):
    """Open the parlor again on a closed day."""
    require_perm(request, "parlor.delete_closedday")
    closed = get_object_or_404(ClosedDay, pk=pk)
    services.closed_day_remove(closed_day=closed)
    messages.success(request, _("The parlor is open on %(day)s.") % {"day": day_long(closed.day)})
    return redirect("parlor:closed-days")


@login_not_required
@cache_control(max_age=86400)
def favicon(request):
    """The icon the pages name; browsers also ask /favicon.ico where a page names none (the admin)."""
    # Resolved per request: under the manifest storage the hashed name is known only after collectstatic.
    return redirect(static("parlor/favicon.svg"), permanent=False)
