"""/laboratoire/: the laboratory space (namespace "laboratoire"), for its own products only."""

from django.urls import include, path

from . import views

app_name = "laboratoire"

urlpatterns = [
    path("", views.espace, name="espace"),
    path("produits/<int:pk>/", views.produit, name="produit"),
    path("produits/<int:pk>/changement-titulaire/", views.declarer_changement, name="declarer_changement"),
    path("statuts/<int:pk>/proposition-put/", views.proposer_put, name="proposer_put"),
    path("statuts/<int:pk>/prolongation/", views.demander_prolongation, name="demander_prolongation"),
    path("rapports/<int:pk>/depot/", views.deposer_rapport, name="deposer_rapport"),
    # The ANSM's information requests on the laboratory's products (R16), answered with documents.
    path("informations/", include("demandes.urls_laboratoire")),
]
