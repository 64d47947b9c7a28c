"""The public booking pages under /book/ (namespace "online"), the client's waiting list and offers
(sessions.waitlist's public pages), and the staff's settings of online booking."""

from django.urls import include, path

from sessions.online.views import mine, public, staff

app_name = "online"

urlpatterns = [
    path("", public.book, name="book"),
    path("time/", public.choose, name="choose"),
    path("sign-in/", public.sign_in_code, name="sign-in"),
    path("sign-in/<str:token>/", public.sign_in_link, name="sign-in-link"),
    path("profile/", public.profile, name="profile"),
    path("hold/", public.reservation, name="reservation"),
    path("questionnaire/", public.questionnaire, name="questionnaire"),
    path("call-back/", public.call_back, name="call-back"),
    path("sign-out/", public.sign_out, name="sign-out"),
    path("my/", mine.my, name="my"),
    path("my/<int:pk>/cancel/", mine.my_cancel, name="my-cancel"),
    path("my/<int:pk>/move/", mine.my_move, name="my-move"),
    path("my/<int:pk>/calendar.ics", mine.my_calendar, name="my-calendar"),
    path("settings/", staff.online_policy, name="policy"),
    path("calls/<int:pk>/done/", staff.call_done, name="call-done"),
    path("", include("sessions.waitlist.views.public")),
]
