from django.urls import path

from .views import commun, depot, instruction, pui

app_name = "demandes"

urlpatterns = [
    path("", commun.espace, name="espace"),
    path("nouvelle/", depot.nouvelle, name="nouvelle"),
    path("pui/", pui.boite, name="boite_pui"),
    path("instruction/", instruction.liste, name="instruction"),
    path("<str:reference>/", commun.detail, name="detail"),
    path("<str:reference>/etape/<slug:etape>/", depot.etape, name="etape"),
    path("<str:reference>/action/<slug:action>/", commun.action, name="action"),
    path("<str:reference>/decision.pdf", commun.decision_pdf, name="decision_pdf"),
    path("<str:reference>/pieces/", commun.piece_joindre, name="piece_joindre"),
    path("<str:reference>/pieces/<int:pk>/", commun.piece_telecharger, name="piece"),
]
