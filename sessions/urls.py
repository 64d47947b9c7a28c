from django.urls import include, path

app_name = "sessions"

# Each area keeps its own url list beside its views (sessions/views/<area>.py
# defines `urlpatterns`), so the areas can grow without touching each other.
urlpatterns = [
    path("", include("sessions.views.calendar")),
    path("", include("sessions.views.booking")),
    path("", include("sessions.views.courses")),
    path("", include("sessions.views.masseur")),
    path("", include("sessions.views.client_links")),
    path("", include("sessions.views.reminders_page")),
]
