"""Routes of the laboratory's answers to the ANSM's information requests (R16), included under
/laboratoire/informations/ in the "laboratoire" namespace (referentiel/laboratoire/urls.py)."""

from django.urls import path

from .views import laboratoire

urlpatterns = [
    path("", laboratoire.informations, name="informations"),
    path("<int:pk>/", laboratoire.information, name="information"),
]
