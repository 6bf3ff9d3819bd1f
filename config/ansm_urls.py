"""/ansm/: the ANSM's own pages (namespace "ansm"), for évaluateurs and administrators.

The dashboard is the entry point; the référentiel's management lives under /ansm/referentiel/.
"""

from django.urls import include, path

from comptes import views as comptes
from demandes import echeances
from referentiel.gestion import views as gestion

app_name = "ansm"

urlpatterns = [
    path("", gestion.tableau_de_bord, name="tableau_de_bord"),
    path("referentiel/", include("referentiel.gestion.urls")),
    # --- Upcoming deadlines of the next 90 days, by kind (issue 6) ---
    path("echeances/", echeances.page_echeances, name="echeances"),
    # --- Review queue of AAC requests, laboratory information requests (R16) and statistics (issue 5) ---
    path("", include("demandes.urls_ansm")),
    # --- Administrators: the audit trail and the log of patient-data reads (issue 7) ---
    path("audit/", comptes.audit_journal, name="audit"),
    path("audit/export.csv", comptes.audit_journal_export, name="audit_export"),
    path("audit/acces/", comptes.audit_acces, name="audit_acces"),
    path("audit/acces/export.csv", comptes.audit_acces_export, name="audit_acces_export"),
]
