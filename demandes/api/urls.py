from rest_framework.routers import SimpleRouter

from .views import DemandeViewSet

routeur = SimpleRouter()
routeur.register("demandes", DemandeViewSet, basename="demande")

urlpatterns = routeur.urls
