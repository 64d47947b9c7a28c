from django.contrib import admin

from clients.models import Client
from clients.search import search_text_for


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "email", "birth_date", "language", "merged_into", "updated_at"]
    list_filter = ["language", "sex", "reminder_consent"]
    search_fields = ["full_name", "phone", "email"]
    list_select_related = ["merged_into"]
    readonly_fields = ["search_text", "merged_into", "created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        # The admin saves rows directly, bypassing the services; keep search finding them.
        obj.search_text = search_text_for(full_name=obj.full_name, phone=obj.phone, email=obj.email)
        super().save_model(request, obj, form, change)
