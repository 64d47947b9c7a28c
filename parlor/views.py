"""Pages of the parlor app: dashboard, health check, manager screens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST

from parlor import dashboard as dashboard_panels
from parlor import selectors, services
from parlor.resources import RESOURCES
from parlor.view_helpers import add_errors


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
            services.resource_save(instance=form.save(commit=False), m2m=m2m)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("parlor:resource-list", slug=slug)
    context = {
        "resource": resource,
        "form": form,
        "instance": instance,
        "can_delete": request.user.has_perm(resource.perm("delete")),
    }
    return render(request, "parlor/resource_form.html", context)


@require_POST
def resource_delete(request, slug, pk):
    resource = _resource_or_404(slug, request, "delete")
    instance = get_object_or_404(resource.model, pk=pk)
    try:
        services.resource_delete(instance=instance)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deleted."))
    return redirect("parlor:resource-list", slug=slug)


@login_not_required
@cache_control(max_age=86400)
def favicon(request):
    """The icon the pages name; browsers also ask /favicon.ico where a page names none (the admin)."""
    # Resolved per request: under the manifest storage the hashed name is known only after collectstatic.
    return redirect(static("parlor/favicon.svg"), permanent=False)
