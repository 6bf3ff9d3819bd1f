from django.urls import path
from django.views.generic import RedirectView

from .views import commun, depot, pui

app_name = "demandes"

urlpatterns = [
    path("", commun.espace, name="espace"),
    path("nouvelle/", depot.nouvelle, name="nouvelle"),
    path("pui/", pui.boite, name="boite_pui"),
    # The ANSM's list moved to the review queue (issue 5); old links and bookmarks still land there.
    path("instruction/", RedirectView.as_view(pattern_name="ansm:demandes", query_string=True), name="instruction"),
    path("<str:reference>/", commun.detail, name="detail"),
    path("<str:reference>/etape/<slug:etape>/", depot.etape, name="etape"),
    path("<str:reference>/action/<slug:action>/", commun.action, name="action"),
    path("<str:reference>/decision.pdf", commun.decision_pdf, name="decision_pdf"),
    path("<str:reference>/pieces/", commun.piece_joindre, name="piece_joindre"),
    path("<str:reference>/pieces/<int:pk>/", commun.piece_telecharger, name="piece"),
]
