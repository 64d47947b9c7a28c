"""The admin shows the booking records and never changes them: every booking, move, hold, release,
check-in and signature goes through the services (sessions.booking, sessions.care, sessions.flags),
which judge the screening, check the overlaps and keep the history. A status edited by hand would
skip all of that."""

from django.contrib import admin

from clients.admin import AccessTrailAdminMixin
from sessions.models import Appointment, Course, Hold, Override


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable with the model's view permission; no add, change or delete, whatever the user's rights."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OverrideInline(ReadOnlyInline):
    model = Override
    fields = ["at", "by", "covers", "reason"]
    readonly_fields = fields


class HoldInline(ReadOnlyInline):
    model = Hold
    fields = ["held_at", "held_by", "cause", "advice", "source", "released_at", "released_by", "release_note"]
    readonly_fields = fields


@admin.register(Appointment)
class AppointmentAdmin(AccessTrailAdminMixin, ReadOnlyAdmin):
    list_display = ["starts_at", "client", "massage_type", "masseur", "room", "status"]
    list_filter = ["status", "masseur", "room"]
    list_select_related = ["client", "massage_type", "masseur", "room"]
    date_hierarchy = "starts_at"
    search_fields = ["client__full_name"]
    inlines = [OverrideInline, HoldInline]

    def trail_client(self, obj):
        # Its overrides and holds are health data.
        return obj.client


class AppointmentInline(ReadOnlyInline):
    model = Appointment
    fields = ["starts_at", "masseur", "room", "status"]
    readonly_fields = fields


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = ["client", "massage_type", "indication", "planned_sessions", "cadence", "status", "created_at"]
    list_filter = ["status", "massage_type", "cadence"]
    list_select_related = ["client", "massage_type"]
    search_fields = ["client__full_name"]
    inlines = [AppointmentInline]
