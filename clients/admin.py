from django.contrib import admin
from django.contrib.admin.utils import unquote

from clients.models import Client
from clients.search import search_text_for
from clients.trail import record_access


class AccessTrailAdminMixin:
    """The admin's change page shows a record whole, its health data included: opening it leaves an
    entry in the access trail like any other page. `trail_client` names whose record it is."""

    def trail_client(self, obj) -> Client:
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                record_access(request, client=self.trail_client(obj), obj=obj)
        return response


@admin.register(Client)
class ClientAdmin(AccessTrailAdminMixin, admin.ModelAdmin):
    list_display = ["full_name", "phone", "email", "birth_date", "language", "merged_into", "updated_at"]
    list_filter = ["language", "sex", "reminder_consent"]
    search_fields = ["full_name", "phone", "email"]
    list_select_related = ["merged_into"]
    readonly_fields = ["search_text", "merged_into", "created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        # The admin saves rows directly, bypassing the services; keep search finding them.
        obj.search_text = search_text_for(full_name=obj.full_name, phone=obj.phone, email=obj.email)
        super().save_model(request, obj, form, change)
