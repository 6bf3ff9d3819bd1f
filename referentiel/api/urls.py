from rest_framework.routers import SimpleRouter

from . import views

# SimpleRouter: no API root view, since other apps' routes share the /api/v1/ prefix.
routeur = SimpleRouter()
routeur.register("specialites", views.SpecialiteViewSet, basename="specialite")
routeur.register("acces", views.AccesViewSet, basename="acces")
routeur.register("indications", views.IndicationViewSet, basename="indication")

urlpatterns = routeur.urls
