from django.urls import include, path

app_name = "sessions"

# Each capability keeps its own url list beside its views (every views module defines
# `urlpatterns`), so the capabilities can grow without touching each other.
urlpatterns = [
    path("", include("sessions.booking.views.calendar")),
    path("", include("sessions.booking.views.appointments")),
    path("", include("sessions.booking.views.courses")),
    path("", include("sessions.booking.views.absence")),
    path("", include("sessions.care.views")),
    path("", include("sessions.reminders.views.client_links")),
    path("", include("sessions.reminders.views.reminder_list")),
    path("", include("sessions.waitlist.views.desk")),
]
