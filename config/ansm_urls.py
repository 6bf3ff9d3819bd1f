"""/ansm/: the ANSM's own pages (namespace "ansm"), for évaluateurs and administrators.

The dashboard is the entry point; the référentiel's management lives under /ansm/referentiel/.
"""

from django.urls import include, path

from referentiel.gestion import views as gestion

app_name = "ansm"

urlpatterns = [
    path("", gestion.tableau_de_bord, name="tableau_de_bord"),
    path("referentiel/", include("referentiel.gestion.urls")),
    # --- Review queue of AAC requests, laboratory information requests (R16) and statistics (issue 5) ---
    # Added here by the demandes back-office, e.g. path("instruction/", include("demandes.ansm_urls")).
]
