from django.contrib import admin
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from parlor.contacts import parlor_contacts
from parlor.models import MassageType, Masseur, Room, TimeOff, WorkingHours

# The product's name, not "Django administration", in the reader's language (evaluated per request).
_product_name = lazy(lambda: parlor_contacts().name, str)()
admin.site.site_header = _product_name
admin.site.site_title = _product_name
admin.site.index_title = _("Administration")


@admin.register(MassageType)
class MassageTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_uk", "name_en", "duration_minutes", "buffer_minutes", "price_uah", "is_active"]
    search_fields = ["code", "name_uk", "name_en"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Masseur)
class MasseurAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "is_active"]
    filter_horizontal = ["qualifications"]
    inlines = [WorkingHoursInline]
    list_select_related = ["user"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["masseur", "starts_at", "ends_at", "reason"]
    list_select_related = ["masseur"]
