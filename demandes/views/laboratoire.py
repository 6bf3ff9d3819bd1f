"""The laboratory answers the ANSM's information requests on its products (R16), from its space
(/laboratoire/informations/).

A laboratory is not party to the requests (it never reads patient data): it sees the ANSM's questions addressed to
it, and of the request only its reference, its state and the medicine. Any other question is a 404, so that a
laboratory cannot even learn that another's exists.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from referentiel.gestion.outils import laboratoire_requis

from .. import forms, selectors, services
from ..exceptions import DemandeError
from .commun import erreurs_sur_formulaire, paginer


def _fil(*liens, courant: str) -> dict:
    return {
        "links": [{"url": reverse("laboratoire:espace"), "title": "Espace laboratoire"}, *liens],
        "current": courant,
    }


@require_GET
@laboratoire_requis
def informations(request):
    """The ANSM's information requests to the laboratory: those awaited (default) or all of them."""
    toutes = request.GET.get("etat") == "toutes"
    page = paginer(request, selectors.informations_du_laboratoire(request.user.laboratoire, en_attente=not toutes))
    contexte = {
        "title": "Demandes d'information de l'ANSM",
        "breadcrumb_data": _fil(courant="Demandes d'information de l'ANSM"),
        "laboratoire": request.user.laboratoire,
        "page_obj": page,
        "toutes": toutes,
        "aujourd_hui": timezone.localdate(),
    }
    return render(request, "laboratoire/informations.html", contexte)


@laboratoire_requis
def information(request, pk: int):
    """One information request: the pieces asked, the deadline, and the answer with documents (R16)."""
    complement = selectors.information_du_laboratoire(request.user.laboratoire, pk)
    if complement is None:
        raise Http404("Cette demande d'information n'existe pas ou ne concerne pas votre laboratoire.")
    ouverte = complement.attend_reponse_laboratoire
    form = forms.ReponseLaboratoireForm(request.POST or None, request.FILES or None) if ouverte else None
    statut = 200
    if request.method == "POST":
        if form is None:
            messages.error(request, "Cette demande d'information n'attend plus de réponse.")
            return redirect("laboratoire:information", complement.pk)
        if form.is_valid():
            try:
                services.complement_laboratoire_repondre(
                    complement=complement,
                    par=request.user,
                    reponse=form.cleaned_data["reponse"],
                    fichiers=form.cleaned_data["fichiers"],
                )
            except DemandeError as exc:
                erreurs_sur_formulaire(form, exc)
                if not any(e.champ in form.fields for e in exc.erreurs):
                    form.add_error(None, exc.texte)
                statut = exc.statut_http
            else:
                messages.success(request, "Votre réponse et vos documents ont été transmis à l'ANSM.")
                return redirect("laboratoire:informations")
        else:
            statut = 400
    titre = f"Demande d'information — {complement.demande.reference}"
    contexte = {
        "title": titre,
        "breadcrumb_data": _fil(
            {"url": reverse("laboratoire:informations"), "title": "Demandes d'information de l'ANSM"}, courant=titre
        ),
        "complement": complement,
        "form": form,
        "ouverte": ouverte,
        "aujourd_hui": timezone.localdate(),
    }
    return render(request, "laboratoire/information.html", contexte, status=statut)
