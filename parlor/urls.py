from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from parlor import views

parlor_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("manage/<slug:slug>/", views.resource_list, name="resource-list"),
    path("manage/<slug:slug>/new/", views.resource_edit, name="resource-add"),
    path("manage/<slug:slug>/<int:pk>/", views.resource_edit, name="resource-edit"),
    path("manage/<slug:slug>/<int:pk>/delete/", views.resource_delete, name="resource-delete"),
    path("closed-days/", views.closed_days, name="closed-days"),
    path("closed-days/<int:pk>/open/", views.closed_day_delete, name="closed-day-delete"),
    path("", include("parlor.accounts.urls")),
]

urlpatterns = [
    path("", include((parlor_patterns, "parlor"))),
    path("clients/", include("clients.urls")),
    path("screening/", include("screening.urls")),
    path("sessions/", include("sessions.urls")),
    # Clients book online here (public pages: sessions.online).
    path("book/", include("sessions.online.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switcher works on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on every page that names none (the admin's): no 404 each time.
    path("favicon.ico", views.favicon, name="favicon"),
]

# MEDIA_ROOT is never served as such, not even with DEBUG: clearance scans are health data and go
# out only through screening's checked view.
