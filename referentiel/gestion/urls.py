"""The référentiel's back-office, mounted at /ansm/referentiel/ inside the "ansm" namespace (config/ansm_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.specialites, name="specialites"),
    path("nouvelle/", views.specialite_creer, name="specialite_creer"),
    path("<int:pk>/", views.specialite, name="specialite"),
    path("<int:pk>/modifier/", views.specialite_modifier, name="specialite_modifier"),
    path("<int:pk>/publication/", views.specialite_publication, name="specialite_publication"),
    path("<int:pk>/historique/", views.historique, name="historique"),
    path("<int:pk>/statuts/nouveau/", views.acces_creer, name="acces_creer"),
    path("<int:pk>/documents/nouveau/", views.document_ajouter, name="document_ajouter"),
    path("<int:pk>/rapports/nouveau/", views.rapport_creer, name="rapport_creer"),
    path("<int:pk>/cpc/nouveau/", views.cpc_creer, name="cpc_creer"),
    path("<int:pk>/signalements/nouveau/", views.signalement_creer, name="signalement_creer"),
    path("statuts/<int:pk>/modifier/", views.acces_modifier, name="acces_modifier"),
    path("statuts/<int:pk>/amm/", views.acces_amm, name="acces_amm"),
    path("statuts/<int:pk>/engagement-aap/", views.acces_engagement, name="acces_engagement"),
    path("statuts/<int:pk>/prolongation/", views.acces_prolonger, name="acces_prolonger"),
    path("statuts/<int:pk>/indications/nouvelle/", views.indication_creer, name="indication_creer"),
    path("statuts/<int:pk>/put/nouveau/", views.put_creer, name="put_creer"),
    path("indications/<int:pk>/modifier/", views.indication_modifier, name="indication_modifier"),
    path("indications/<int:pk>/supprimer/", views.indication_supprimer, name="indication_supprimer"),
    path("put/<int:pk>/modifier/", views.put_modifier, name="put_modifier"),
    path("put/<int:pk>/valider/", views.put_valider, name="put_valider"),
    path("put/<int:pk>/fichier/", views.put_fichier, name="put_fichier"),
    path("documents/<int:pk>/supprimer/", views.document_supprimer, name="document_supprimer"),
    path("rapports/", views.rapports, name="rapports"),
    path("rapports/<int:pk>/", views.rapport, name="rapport"),
    path("rapports/<int:pk>/fichier/", views.rapport_fichier, name="rapport_fichier"),
    path("rapports/<int:pk>/<slug:action>/", views.rapport_action, name="rapport_action"),
    path("cpc/", views.cpc_liste, name="cpc_liste"),
    path("cpc/<int:pk>/", views.cpc, name="cpc"),
    path("cpc/<int:pk>/<slug:action>/", views.cpc_action, name="cpc_action"),
    path("signalements/", views.signalements, name="signalements"),
    path("engagements-aap/", views.engagements_aap, name="engagements_aap"),
    path("laboratoires/", views.demandes_laboratoires, name="demandes_laboratoires"),
    path(
        "laboratoires/prolongations/<int:pk>/<slug:decision>/",
        views.prolongation_decider,
        name="prolongation_decider",
    ),
    path(
        "laboratoires/declarations/<int:pk>/<slug:decision>/",
        views.declaration_decider,
        name="declaration_decider",
    ),
]
