from django.urls import path

from . import views

app_name = "comptes"

urlpatterns = [
    path("connexion/", views.ConnexionView.as_view(), name="connexion"),
    path("deconnexion/", views.DeconnexionView.as_view(), name="deconnexion"),
    path("mon-compte/", views.mon_compte, name="mon_compte"),
    path("mon-compte/mes-donnees.json", views.mes_donnees, name="mes_donnees"),
    path("mot-de-passe/modifier/", views.ChangementMotDePasseView.as_view(), name="changement_mot_de_passe"),
    path("mot-de-passe/oublie/", views.MotDePasseOublieView.as_view(), name="mot_de_passe_oublie"),
    path("mot-de-passe/oublie/envoye/", views.MotDePasseOublieEnvoyeView.as_view(), name="mot_de_passe_oublie_envoye"),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        views.NouveauMotDePasseView.as_view(),
        name="nouveau_mot_de_passe",
    ),
    path("mot-de-passe/reinitialise/", views.MotDePasseReinitialiseView.as_view(), name="mot_de_passe_reinitialise"),
    path("double-facteur/activation/", views.double_facteur_activation, name="double_facteur_activation"),
    path("double-facteur/verification/", views.double_facteur_verification, name="double_facteur_verification"),
]
