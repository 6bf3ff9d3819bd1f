from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.accueil, name="accueil"),
    path("sante/", views.sante, name="sante"),
    path("accessibilite/", views.page_statique, {"page": "accessibilite"}, name="footer-accessibility-status"),
    path("mentions-legales/", views.page_statique, {"page": "mentions_legales"}, name="footer-legal-notice"),
    path("donnees-personnelles/", views.page_statique, {"page": "donnees_personnelles"}, name="footer-personal-data"),
    path("cookies/", views.page_statique, {"page": "cookies"}, name="footer-cookie-management"),
    path("plan-du-site/", views.page_statique, {"page": "plan_du_site"}, name="footer-sitemap"),
    path("comptes/", include("comptes.urls")),
    path("referentiel/", include("referentiel.urls")),
    path("demandes/", include("demandes.urls")),
    path("ansm/", include("config.ansm_urls")),
    path("laboratoire/", include("referentiel.laboratoire.urls")),
    path("api/", include("config.api_urls")),
    path("admin-technique/", admin.site.urls),
]

handler400 = "config.views.erreur_400"
handler403 = "config.views.erreur_403"
handler404 = "config.views.erreur_404"
handler500 = "config.views.erreur_500"
