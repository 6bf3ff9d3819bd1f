"""Routes of the ANSM's request pages, included in the "ansm" namespace (config/ansm_urls.py): the review queue and
the review page of a request (/ansm/demandes/), and the statistics (/ansm/statistiques/)."""

from django.urls import path

from .views import instruction, statistiques

urlpatterns = [
    path("demandes/", instruction.file, name="demandes"),
    path("demandes/<str:reference>/", instruction.instruction, name="instruction"),
    path("demandes/<str:reference>/action/<slug:action>/", instruction.action, name="instruction_action"),
    path("demandes/<str:reference>/apercu/<slug:action>/", instruction.apercu, name="instruction_apercu"),
    path("demandes/<str:reference>/assigner-a-moi/", instruction.assigner_a_moi, name="instruction_assigner_a_moi"),
    path("statistiques/", statistiques.page, name="statistiques"),
    path("statistiques/<slug:tableau>.csv", statistiques.export_csv, name="statistiques_csv"),
]
