from django.urls import path

from . import views

app_name = "referentiel"

urlpatterns = [
    path("", views.liste, name="liste"),
    path("export.csv", views.export_liste, name="export"),
    path("documents/<int:document_id>/", views.document, name="document"),
    path("<slug:slug>/", views.fiche, name="fiche"),
    path("<slug:slug>/indications.csv", views.export_indications, name="export_indications"),
]
