"""The laboratory space (issue 5): its products and their statuses, the number of AAC granted for each (a count,
never a request: no patient data reaches a laboratory), and its own procedures with the ANSM: PUT proposals (R32),
periodic reports (R34), AAP deadline extensions (R23) and changes of rights holder (R29).

Every object is looked up among the laboratory's own products (titulaire or exploitant): anything else is a 404,
so a laboratory cannot even learn that another's product or report exists.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import selectors, services
from ..enums import StatutDemandeProlongation, StatutRapport, TypeAcces
from ..gestion.outils import laboratoire_requis, page_formulaire
from . import forms


def _fil(*liens, courant: str) -> dict:
    return {
        "links": [{"url": reverse("laboratoire:espace"), "title": "Espace laboratoire"}, *liens],
        "current": courant,
    }


def _url_produit(specialite_id: int, ancre: str = "") -> str:
    return reverse("laboratoire:produit", args=[specialite_id]) + (f"#{ancre}" if ancre else "")


def _contexte(specialite, titre: str, *, bouton: str, regles: str = "", **extra) -> dict:
    return {
        "title": titre,
        "breadcrumb_data": _fil(
            {"url": _url_produit(specialite.pk), "title": specialite.nom},
            courant=titre,
        ),
        "specialite": specialite,
        "bouton": bouton,
        "regles": regles,
        "annuler": _url_produit(specialite.pk),
        **extra,
    }


@require_GET
@laboratoire_requis
def espace(request):
    laboratoire = request.user.laboratoire
    aujourd_hui = timezone.localdate()
    rapports = [
        r for r in selectors.rapports_du_laboratoire(laboratoire=laboratoire).filter(statut=StatutRapport.ATTENDU)
    ]
    contexte = {
        "title": "Espace laboratoire",
        "breadcrumb_data": {"current": "Espace laboratoire"},
        "laboratoire": laboratoire,
        "produits": list(selectors.specialites_du_laboratoire(laboratoire=laboratoire)),
        "rapports": rapports,
        "aujourd_hui": aujourd_hui,
    }
    return render(request, "laboratoire/espace.html", contexte)


def _produit(request, pk: int):
    specialite = selectors.specialite_du_laboratoire(laboratoire=request.user.laboratoire, pk=pk)
    if specialite is None:
        raise Http404("Ce produit n'existe pas ou n'est pas le vôtre.")
    return specialite


@require_GET
@laboratoire_requis
def produit(request, pk: int):
    specialite = _produit(request, pk)
    acces = list(specialite.acces.all())
    for a in acces:
        # R23: one pending request at a time (a DB constraint); the button goes while one waits.
        a.prolongation_en_attente = any(
            d.statut == StatutDemandeProlongation.DEPOSEE for d in a.demandes_prolongation.all()
        )
    contexte = {
        "title": specialite.nom,
        "breadcrumb_data": _fil(courant=specialite.nom),
        "specialite": specialite,
        "acces": acces,
        "compositions": list(specialite.compositions.all()),
        "declarations": list(specialite.declarations_titulaire.all()),
        "aujourd_hui": timezone.localdate(),
    }
    return render(request, "laboratoire/produit.html", contexte)


def _acces(request, pk: int):
    acces = selectors.acces_du_laboratoire(laboratoire=request.user.laboratoire, pk=pk)
    if acces is None:
        raise Http404("Ce statut n'existe pas ou ne concerne pas vos produits.")
    return acces


@laboratoire_requis
def proposer_put(request, pk: int):
    """R32: submit a PUT proposal with its draft protocol."""
    acces = _acces(request, pk)
    form = forms.PropositionPUTForm(request.POST or None, request.FILES or None)

    def appel(d):
        return services.put_proposer(
            acces=acces,
            fichier=d["fichier"],
            par=request.user,
            version=d["version"],
            recueil_nominatif=d["recueil_nominatif"],
            periodicite_rapports_mois=d["periodicite_rapports_mois"],
            crpv=d["crpv"],
        )

    type_put = "PUT-RD" if acces.type_acces == TypeAcces.AAP else "PUT-SP"
    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes=f"Proposition de {type_put} transmise à l'ANSM.",
        suite=_url_produit(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte(
            acces.specialite,
            f"Proposer un {type_put} — {acces.get_type_acces_display()}",
            bouton="Transmettre la proposition",
            regles="R32, R33, R34",
            fichier=True,
        ),
    )


@laboratoire_requis
def deposer_rapport(request, pk: int):
    """R34: upload the periodic synthesis report of a due period."""
    rapport = selectors.rapport_du_laboratoire(laboratoire=request.user.laboratoire, pk=pk)
    if rapport is None:
        raise Http404("Ce rapport n'existe pas ou ne concerne pas vos produits.")
    form = forms.DepotRapportForm(request.POST or None, request.FILES or None)
    specialite = rapport.acces.specialite
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.rapport_deposer(rapport=rapport, fichier=d["fichier"], par=request.user),
        succes="Rapport de synthèse transmis à l'ANSM.",
        suite=_url_produit(specialite.pk, "rapports"),
        contexte=_contexte(
            specialite,
            f"Déposer le rapport de synthèse du {rapport.periode_debut:%d/%m/%Y} au {rapport.periode_fin:%d/%m/%Y}",
            bouton="Déposer le rapport",
            regles="R34",
            fichier=True,
            explication=f"Échéance : {rapport.date_echeance:%d/%m/%Y}.",
        ),
    )


@laboratoire_requis
def demander_prolongation(request, pk: int):
    """R23: ask the ANSM to extend the AAP filing deadline."""
    acces = _acces(request, pk)
    form = forms.DemandeProlongationForm(request.POST or None)
    limite = acces.date_limite_depot_aap
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.prolongation_demander(
            acces=acces, duree_mois=d["duree_mois"], motif=d["motif"], par=request.user
        ),
        succes="Demande de prolongation transmise à l'ANSM.",
        suite=_url_produit(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte(
            acces.specialite,
            "Demander la prolongation du délai de dépôt de l'AAP",
            bouton="Transmettre la demande",
            regles="R23",
            explication=f"Date limite actuelle : {limite:%d/%m/%Y}." if limite else "",
        ),
    )


@laboratoire_requis
def declarer_changement(request, pk: int):
    """R29: report a change of rights holder (or of exploitant) to the ANSM."""
    specialite = _produit(request, pk)
    form = forms.DeclarationTitulaireForm(request.POST or None)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.declaration_titulaire_deposer(specialite=specialite, par=request.user, **d),
        succes="Changement de titulaire déclaré à l'ANSM, qui mettra à jour les informations du produit.",
        suite=_url_produit(specialite.pk, "titulaire"),
        contexte=_contexte(
            specialite, "Déclarer un changement de titulaire", bouton="Transmettre la déclaration", regles="R29"
        ),
    )
