from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from parlor.accounts.services import password_reset_send
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


class StaffUserAdmin(UserAdmin):
    """Staff accounts. A manager (auth.change_user, not a superuser) gives access through groups
    only: no superuser status, no raw permissions, no hand on a superuser's account, and no
    password typed for someone else; a one-time link by email instead (the action)."""

    actions = ["send_password_reset"]

    def _is_manager_only(self, request) -> bool:
        return not request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._is_manager_only(request):
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if self._is_manager_only(request):
            readonly += ["last_login", "date_joined"]
        return readonly

    def get_queryset(self, request):
        users = super().get_queryset(request)
        # Superusers are out of a manager's reach: neither listed nor editable.
        return users.filter(is_superuser=False) if self._is_manager_only(request) else users

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and self._is_manager_only(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and self._is_manager_only(request):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if self._is_manager_only(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.action(description=_("Send a one-time link to set a new password"), permissions=["change"])
    def send_password_reset(self, request, queryset):
        sent = []
        for user in queryset:
            try:
                password_reset_send(user=user, request=request, sent_by=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                sent.append(user.get_username())
        if sent:
            self.message_user(
                request, _("A link to set a new password was emailed to: %(users)s.") % {"users": ", ".join(sent)}
            )


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
