from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="client-list"),
    path("new/", views.client_create, name="client-create"),
    path("<int:pk>/", views.client_detail, name="client-detail"),
    path("<int:pk>/edit/", views.client_edit, name="client-edit"),
    path("<int:pk>/merge/", views.client_merge, name="client-merge"),
    path("<int:pk>/export/", views.client_export, name="client-export"),
    path("<int:pk>/withdraw-consent/", views.client_withdraw_consent, name="client-withdraw-consent"),
    path("<int:pk>/erase/", views.client_erase, name="client-erase"),
    path("<int:pk>/trail/", views.client_trail, name="client-trail"),
    path("trail/users/<int:user_pk>/", views.user_trail, name="user-trail"),
]
