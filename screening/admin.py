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
    list_display = ["client", "kind", "doctor_name", "issued_on", "valid_until"]
    list_select_related = ["client"]
    raw_id_fields = ["client"]
    # Screenings are append-only and health data: not in the admin at all.
    exclude = ["scan"]

    def trail_client(self, obj):
        return obj.client
