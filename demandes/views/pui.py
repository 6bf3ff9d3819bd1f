"""The PUI inbox: the requests transmitted to the pharmacist's PUI (R10, R14)."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from comptes.enums import Role

from .. import selectors
from .commun import liste_contexte, role_requis

ONGLETS = {"a_traiter": "À traiter", "toutes": "Toutes les demandes"}


@require_GET
@role_requis(Role.PHARMACIEN)
def boite(request):
    onglet = request.GET.get("onglet", "a_traiter")
    if onglet not in ONGLETS:
        onglet = "a_traiter"
    contexte = liste_contexte(
        request,
        selectors.boite_pui(request.user, onglet=onglet),
        titre=f"Demandes de la PUI — {ONGLETS[onglet]}",
        breadcrumb_data={"current": "Demandes de la PUI"},
        onglet=onglet,
        onglets=[
            {"cle": cle, "libelle": libelle, "url": f"{reverse('demandes:boite_pui')}?onglet={cle}"}
            for cle, libelle in ONGLETS.items()
        ],
        pui=request.user.pui,
        vue_pui=True,
    )
    return render(request, "demandes/liste.html", contexte)
