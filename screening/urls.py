from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("clients/<int:client_pk>/", views.screening_list, name="screening-list"),
    path("clients/<int:client_pk>/new/", views.screening_create, name="screening-create"),
    path("clients/<int:client_pk>/clearances/", views.clearance_list, name="clearance-list"),
    path("clients/<int:client_pk>/clearances/new/", views.clearance_create, name="clearance-create"),
    path("clearances/<int:pk>/scan/", views.clearance_scan, name="clearance-scan"),
    path("<int:pk>/", views.screening_detail, name="screening-detail"),
    path("catalogue/", views.contraindication_list, name="contraindication-list"),
    path("catalogue/new/", views.contraindication_edit, name="contraindication-add"),
    path("catalogue/<int:pk>/", views.contraindication_edit, name="contraindication-edit"),
    path("questionnaire/settings/", views.questionnaire_settings, name="questionnaire-settings"),
]
