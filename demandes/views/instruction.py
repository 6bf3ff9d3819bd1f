"""The ANSM évaluateurs' pages (issue 5): the review queue (/ansm/demandes/) and the review page of one request.

The queue lists what waits for the ANSM (to evaluate, waiting for the PUI, immediate grants filed out of hours to
confirm (R44), appeals to answer (R19)) with its filters, assignment, the number waiting and the oldest's age. The
review page shows the patient's situation, the attestation or the justification next to the fiche's critères
d'octroi, the history of requests for the same medicine, the exchanges with the PUI and the laboratory (R16), and
the actions. Its forms post to `action`, which goes through `commun.traiter_action`: the same forms, the same
services and therefore the same journal rows and decision PDF as the shared request page and the API.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from comptes.enums import Role

from .. import selectors, services
from ..enums import BADGE_STATUT, CanalAcces
from ..exceptions import DemandeError
from ..filters import FileInstructionFilter
from .commun import (
    FORMULAIRES,
    champs_octroi,
    contexte_detail,
    erreurs_sur_formulaire,
    paginer,
    refuser_si_role_exclu,
    role_requis,
    traiter_action,
)

ANSM = (Role.EVALUATEUR, Role.ADMINISTRATEUR)
# The actions whose form offers a preview of the decision PDF.
APERCUS = ("octroyer", "refuser", "accueillir_recours")


def _fil(*liens, courant: str) -> dict:
    return {"links": [{"url": reverse("ansm:tableau_de_bord"), "title": "Espace ANSM"}, *liens], "current": courant}


@require_GET
@role_requis(*ANSM)
def file(request):
    """The review queue: one tab, filtered, urgences vitales first then oldest; a page of rows in constant queries."""
    onglet = request.GET.get("onglet", "a_instruire")
    if onglet not in selectors.ONGLETS_FILE:
        onglet = "a_instruire"
    compteurs = selectors.file_compteurs(request.user)
    filtre = FileInstructionFilter(
        request.GET or None, queryset=selectors.file_instruction(request.user, onglet=onglet), request=request
    )
    page = paginer(request, filtre.qs)
    parametres = request.GET.copy()
    parametres.pop("page", None)
    onglets = []
    for cle, compteur in compteurs.items():
        lien = request.GET.copy()
        lien.pop("page", None)
        lien["onglet"] = cle
        onglets.append({"cle": cle, **compteur, "url": f"?{lien.urlencode()}"})
    contexte = {
        "title": f"Demandes d'AAC — {selectors.ONGLETS_FILE[onglet]}",
        "breadcrumb_data": _fil(courant="Demandes d'AAC"),
        "onglet": onglet,
        "onglets": onglets,
        "compteur": compteurs[onglet],
        "maintenant": timezone.now(),
        "filtre": filtre,
        "page_obj": page,
        "parametres": parametres.urlencode(),
        "badges": BADGE_STATUT,
    }
    return render(request, "demandes/file_instruction.html", contexte)


def _page_instruction(request, reference, *, lie=None, erreur=None, statut=200):
    """The review page; `lie` holds the action form that was refused, shown again with its errors."""
    demande = selectors.demande_instruction(request.user, reference)
    services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PAGE)
    contexte = contexte_detail(request, demande, lie=lie, erreur=erreur, url_action="ansm:instruction_action")
    actions = {f["transition"].nom: f for f in contexte["formulaires"]}
    assignation = actions.pop("assigner", None)
    for nom in APERCUS:
        if nom in actions:
            actions[nom]["apercu"] = reverse("ansm:instruction_apercu", args=[demande.reference, nom])
    decision = contexte["decision"]
    contexte.update(
        {
            "title": f"Instruction de la demande {demande.reference}",
            "breadcrumb_data": _fil(
                {"url": reverse("ansm:demandes"), "title": "Demandes d'AAC"}, courant=demande.reference
            ),
            "formulaires": list(actions.values()),
            "assignation": assignation,
            "criteres": selectors.criteres_cote_a_cote(demande),
            "historique": selectors.historique_medicament(demande),
            "recours_en_attente": selectors.recours_en_attente(demande),
            "statut_recours": getattr(decision, "recours", None) if decision else None,
        }
    )
    return render(request, "demandes/instruction.html", contexte, status=statut)


@require_GET
@role_requis(*ANSM)
def instruction(request, reference):
    return _page_instruction(request, reference)


@require_POST
@role_requis(*ANSM)
def action(request, reference, action):
    """An évaluateur's action from the review page: the shared action handler, back to the review page."""
    return traiter_action(request, reference, action, route="ansm:instruction", page=_page_instruction)


@require_POST
@role_requis(*ANSM)
def assigner_a_moi(request, reference):
    """The queue's "M'assigner" button: the évaluateur takes the request, from the version the row showed."""
    demande = get_object_or_404(selectors.demandes_visibles_par(request.user), reference=reference)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.demande_assigner(demande=demande, evaluateur=request.user, par=request.user, version=version)
    except DemandeError as exc:
        messages.error(request, exc.texte)
    else:
        messages.success(request, f"La demande {demande.reference} vous est assignée.")
    suite = request.POST.get("suite", "")
    if suite.startswith("?") or suite == "":
        return redirect(reverse("ansm:demandes") + suite)
    return redirect("ansm:instruction", demande.reference)


@require_POST
@role_requis(*ANSM)
def apercu(request, reference, action):
    """The decision PDF as it would be, drawn by pdf.py from the form's values without saving anything (no decision,
    no number, no journal row), shown inline; a refused form shows the review page with its errors."""
    if action not in APERCUS:
        return HttpResponse(status=404)
    demande = get_object_or_404(
        selectors.demandes_visibles_par(request.user).select_related(
            "prescripteur", "etablissement", "pui__etablissement", "pharmacien", "specialite", "indication"
        ),
        reference=reference,
    )
    refuser_si_role_exclu(request.user, action)
    form = FORMULAIRES[action](request.POST, prefix=action)
    erreur = None
    if form.is_valid():
        donnees = form.cleaned_data
        if action == "refuser":
            champs = {
                "motif_refus": donnees["motif"],
                "motif_refus_texte": donnees["motif_texte"],
                "commentaire": donnees["commentaire"],
            }
        else:
            champs = champs_octroi(donnees)
        try:
            contenu = services.decision_apercu_pdf(demande=demande, par=request.user, action=action, **champs)
        except DemandeError as exc:
            erreur = exc
            erreurs_sur_formulaire(form, exc)
        else:
            services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PDF)
            reponse = HttpResponse(contenu, content_type="application/pdf")
            reponse["Content-Disposition"] = f'inline; filename="projet-de-decision-{demande.reference}.pdf"'
            reponse["Cache-Control"] = "private, no-store"
            return reponse
    return _page_instruction(
        request, reference, lie={action: form}, erreur=erreur, statut=erreur.statut_http if erreur else 400
    )
