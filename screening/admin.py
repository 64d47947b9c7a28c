from django.contrib import admin

from clients.admin import AccessTrailAdminMixin
from screening.models import Clearance, Contraindication


@admin.register(Contraindication)
class ContraindicationAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "name_uk", "name_en", "is_day_of", "is_active", "ordering"]
    list_filter = ["kind", "is_day_of", "is_active"]
    search_fields = ["code", "name_uk", "name_en"]

    def get_readonly_fields(self, request, obj=None):
        # The rules know entries by code and kind (screening/rules.py).
        return ["code", "kind"] if obj else []


@admin.register(Clearance)
class ClearanceAdmin(AccessTrailAdminMixin, admin.ModelAdmin):
    """Shown, never changed here: a clearance added or edited outside screening.services would not tell
    sessions (screening.events), so no appointment would be held or released by it."""

    list_display = ["client", "kind", "doctor_name", "issued_on", "valid_until"]
    list_select_related = ["client"]
    # Screenings are append-only and health data: not in the admin at all.
    exclude = ["scan"]

    def trail_client(self, obj):
        return obj.client

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
