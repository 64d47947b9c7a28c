import datetime

from django import forms
from django.contrib import admin

from clients.admin import AccessTrailAdminMixin
from sessions.booking.selectors import appointment_conflicts
from sessions.models import Appointment, Course


class AppointmentAdminForm(forms.ModelForm):
    """The admin writes rows directly, so it runs the booking's overlap checks
    itself: an overlap becomes a form error beside the field, not a 500 from
    the exclusion constraint. (The screening verdict is the booking screens' job.)"""

    class Meta:
        model = Appointment
        fields = [
            "course",
            "client",
            "massage_type",
            "masseur",
            "room",
            "starts_at",
            "status",
            "cancellation_reason",
            "override_reason",
            "override_by",
        ]

    def clean(self):
        cleaned = super().clean()
        massage_type = cleaned.get("massage_type")
        starts_at = cleaned.get("starts_at")
        if massage_type and starts_at:
            # Derived, never typed: the end and the rest buffer follow from the type.
            self.instance.ends_at = starts_at + datetime.timedelta(minutes=massage_type.duration_minutes)
            self.instance.blocks_until = self.instance.ends_at + datetime.timedelta(minutes=massage_type.buffer_minutes)
        required = ("client", "massage_type", "masseur", "room", "starts_at")
        live = cleaned.get("status") not in Appointment.NOT_LIVE
        if live and all(cleaned.get(name) for name in required):
            errors = appointment_conflicts(
                **{name: cleaned[name] for name in required},
                # Correcting a past record is the admin's business.
                now=datetime.datetime.min.replace(tzinfo=datetime.UTC),
                exclude_pk=self.instance.pk,
            )
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Appointment)
class AppointmentAdmin(AccessTrailAdminMixin, admin.ModelAdmin):
    form = AppointmentAdminForm
    list_display = ["starts_at", "client", "massage_type", "masseur", "room", "status"]
    list_filter = ["status", "masseur", "room"]
    list_select_related = ["client", "massage_type", "masseur", "room"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["client", "course"]
    readonly_fields = ["ends_at", "blocks_until", "booked_by", "booked_at"]
    search_fields = ["client__full_name"]

    def trail_client(self, obj):
        # The override reason is health data.
        return obj.client

    def save_model(self, request, obj, form, change):
        if not change:
            obj.booked_by = request.user
        super().save_model(request, obj, form, change)


class AppointmentInline(admin.TabularInline):
    model = Appointment
    fields = ["starts_at", "masseur", "room", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["client", "massage_type", "indication", "planned_sessions", "cadence", "status", "created_at"]
    list_filter = ["status", "massage_type", "cadence"]
    list_select_related = ["client", "massage_type"]
    raw_id_fields = ["client"]
    search_fields = ["client__full_name"]
    inlines = [AppointmentInline]
