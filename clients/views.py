"""Client pages: list and search, create, edit, detail with other apps' panels, merge."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clients import erasure, export, panels, selectors, services, trail
from clients.access import can_view_health
from clients.forms import ClientCreateForm, ClientForm, ClientMergeForm, ErasureForm, TrailFilterForm
from clients.models import Client
from clients.search import looks_like_phone
from clients.trail import record_access
from parlor.view_helpers import add_errors, require_perm


def _client_or_404(pk: int) -> Client:
    try:
        return selectors.client_get(pk)
    except Client.DoesNotExist as exc:
        raise Http404 from exc


# The navigation bar's search shows this many clients as the user types.
SUGGESTIONS = 8


def client_list(request):
    """The client list with search; asked by the navigation bar's search box (htmx), only the suggestions."""
    require_perm(request, "clients.view_client")
    query = request.GET.get("q", "").strip()
    if request.htmx:
        return render(
            request,
            "clients/_search_suggestions.html",
            {
                "query": query,
                "clients": selectors.client_search(query, limit=SUGGESTIONS) if query else [],
                "can_add": request.user.has_perm("clients.add_client"),
                "new_client": _new_client_params(query),
            },
        )
    return render(
        request,
        "clients/client_list.html",
        {
            "query": query,
            "clients": selectors.client_search(query),
            "can_add": request.user.has_perm("clients.add_client"),
        },
    )


def _new_client_params(query: str) -> str:
    """The new-client form's address pre-filled from a search that found nobody: a phone or a name."""
    if not query:
        return ""
    field = "phone" if looks_like_phone(query) else "full_name"
    return urlencode({field: query[:200]})


def client_create(request):
    """Register a client; a search that found nobody pre-fills the name or phone, and a next step
    (another app's, e.g. book a course) may follow with the client chosen."""
    require_perm(request, "clients.add_client")
    steps = panels.next_steps_for(request.user)
    initial = {name: request.GET[name][:200] for name in ("full_name", "phone") if request.GET.get(name)}
    form = ClientCreateForm(request.POST or None, initial=initial, next_steps=steps)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(**form.cleaned_data, created_by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Client %(name)s registered.") % {"name": client.full_name})
            step = next((s for s in steps if f"then_{s.key}" in request.POST), None)
            return redirect(step.url(client) if step else client.get_absolute_url())
    return render(request, "clients/client_create.html", {"form": form})


def client_edit(request, pk):
    require_perm(request, "clients.change_client")
    client = _client_or_404(pk)
    if client.merged_into_id:
        messages.error(request, _("This record was merged into another one; edit that one instead."))
        return redirect(client)
    # Read before the form is bound: binding writes the typed values onto the instance.
    recorded = {"allergens": list(client.allergens), "notes": client.notes}
    shows_health = can_view_health(request.user, client)
    if shows_health:
        record_access(request, client=client)
    form = ClientForm(request.POST or None, instance=client, shows_health=shows_health)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not shows_health:
            # The form only adds allergens and has no notes: what is recorded stays.
            data = {**data, "allergens": [*recorded["allergens"], *data["allergens"]], "notes": recorded["notes"]}
        try:
            services.client_update(client=client, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(client)
    return render(request, "clients/client_edit.html", {"form": form, "client": client})


def client_detail(request, pk):
    require_perm(request, "clients.view_client")
    client = _client_or_404(pk)
    # Allergens, notes and the screening details are shown only to those who may see them; they leave a trail.
    shows_health = can_view_health(request.user, client)
    if shows_health:
        record_access(request, client=client)
    return render(
        request,
        "clients/client_detail.html",
        {
            "client": client,
            "shows_health": shows_health,
            "can_export": request.user.has_perm("clients.export_client"),
            "can_erase": request.user.has_perm("clients.erase_client") and not client.erased_at,
            "can_view_trail": request.user.has_perm("clients.view_accessentry"),
            "merged_from": selectors.client_merged_from(client),
            "panels": panels.render_panels(request, client),
            "can_change": request.user.has_perm("clients.change_client")
            and not client.merged_into_id
            and not client.erased_at,
            "can_merge": request.user.has_perm("clients.merge_client") and not client.merged_into_id,
        },
    )


def client_merge(request, pk):
    """Fold this record (the duplicate) into another one that is kept; the page
    finds the other record by search or number, shows both, and a POST merges."""
    require_perm(request, "clients.merge_client")
    source = _client_or_404(pk)
    if source.merged_into_id:
        messages.error(request, _("This record is already merged."))
        return redirect(source)
    query = request.GET.get("q", "").strip()
    candidates = [c for c in selectors.client_search(query, limit=20) if c.pk != source.pk] if query else []
    data = request.POST if request.method == "POST" else (request.GET if "into" in request.GET else None)
    form = ClientMergeForm(data, source=source)
    target = form.cleaned_data["into"] if form.is_bound and form.is_valid() else None
    if request.method == "POST" and target is not None:
        try:
            services.client_merge(source=source, target=target, merged_by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
            target = None
        else:
            messages.success(
                request, _("%(source)s was merged into %(target)s.") % {"source": source, "target": target}
            )
            return redirect(target)
    return render(
        request,
        "clients/client_merge.html",
        {"source": source, "target": target, "form": form, "query": query, "candidates": candidates},
    )


# --- the client's rights: export, consent withdrawal, erasure ---------------------------------------


@never_cache
def client_export(request, pk):
    """Everything held about the client as a ZIP (JSON, a PDF in the client's language, the scans)."""
    require_perm(request, "clients.export_client")
    client = _client_or_404(pk)
    content = export.client_export_zip(client=client)
    record_access(request, client=client)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="client-{client.pk}.zip"'
    return response


@require_POST
def client_withdraw_consent(request, pk):
    """The client withdrew consent to data processing: reminders stop, a manager is asked to erase."""
    require_perm(request, "clients.change_client")
    client = _client_or_404(pk)
    try:
        services.client_withdraw_data_consent(client=client, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Withdrawal recorded: reminders stop, and a manager is asked to erase the personal data.")
        )
    return redirect(client)


def client_erase(request, pk):
    """The manager's erasure, with a written reason; the client's withdrawal pre-fills the reason."""
    require_perm(request, "clients.erase_client")
    client = _client_or_404(pk)
    if client.erased_at:
        messages.error(request, _("This client's data is already erased."))
        return redirect(client)
    initial = {}
    if client.data_consent_withdrawn_at:
        initial["reason"] = _("The client withdrew consent to data processing on %(day)s.") % {
            "day": client.data_consent_withdrawn_at.strftime("%d.%m.%Y")
        }
    form = ErasureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            erasure.client_erase(
                client=client,
                reason=form.cleaned_data["reason"],
                keep_clinical_notes=form.cleaned_data["keep_clinical_notes"],
                erased_by=request.user,
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("The personal data of record #%(number)s is erased.") % {"number": client.pk})
            return redirect("clients:client-detail", pk=client.pk)
    return render(request, "clients/client_erase.html", {"client": client, "form": form})


# --- the access trail, for the manager ---------------------------------------------------------

TRAIL_PAGE_SIZE = 50


def _trail_page(request, queryset):
    form = TrailFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        queryset = trail.within(queryset, form.cleaned_data["since"], form.cleaned_data["until"])
    page = Paginator(queryset, TRAIL_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, trail.object_label(entry)) for entry in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return {"form": form, "page": page, "rows": rows, "query": query.urlencode()}


def client_trail(request, pk):
    """Who opened this client's record, newest first, by date, 50 a page."""
    require_perm(request, "clients.view_accessentry")
    client = _client_or_404(pk)
    context = _trail_page(request, trail.trail_of_client(client=client))
    return render(request, "clients/trail_client.html", {"client": client, **context})


def user_trail(request, user_pk):
    """What this user opened, newest first, by date, 50 a page."""
    require_perm(request, "clients.view_accessentry")
    person = get_object_or_404(get_user_model(), pk=user_pk)
    context = _trail_page(request, trail.trail_of_user(user=person))
    return render(request, "clients/trail_user.html", {"person": person, **context})
