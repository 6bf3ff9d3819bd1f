"""The ANSM back-office of the référentiel (issue 5): the dashboard, the fiches (spécialités, statuses, indications
and critères d'octroi, PUT, documents, AMM and AAC cessation, AAP commitments), the CPC's life, the signalements,
the periodic reports and the laboratories' requests.

Every page is for ANSM évaluateurs and administrators (`ansm_requis`); every write goes through ONE service of
referentiel.services, which checks the rules, locks the fiche and writes its history.
"""

from django.contrib import messages
from django.db.models import Count, Min
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from demandes import selectors as demandes_selectors

from .. import selectors, services
from ..enums import TYPES_HISTORIQUES, EtapeCPC, EtatAcces, PhaseAAP, StatutRapport, TypeAcces
from ..exceptions import ReferentielError
from ..models import (
    PUT,
    AccesDerogatoire,
    DeclarationChangementTitulaire,
    DemandeProlongation,
    Document,
    Indication,
    Specialite,
)
from . import forms
from .outils import ansm_requis, executer, page_formulaire, paginer, telecharger


def _fil(*liens, courant: str) -> dict:
    return {"links": [{"url": reverse("ansm:tableau_de_bord"), "title": "Espace ANSM"}, *liens], "current": courant}


def _lien_specialites() -> dict:
    return {"url": reverse("ansm:specialites"), "title": "Référentiel"}


def _lien_fiche(specialite: Specialite) -> dict:
    return {"url": reverse("ansm:specialite", args=[specialite.pk]), "title": specialite.nom}


def _url_fiche(specialite_id: int, ancre: str = "") -> str:
    return reverse("ansm:specialite", args=[specialite_id]) + (f"#{ancre}" if ancre else "")


def _contexte_formulaire(specialite: Specialite | None, titre: str, *, bouton: str, regles: str = "", **extra):
    liens = [_lien_specialites(), _lien_fiche(specialite)] if specialite else [_lien_specialites()]
    return {
        "title": titre,
        "breadcrumb_data": _fil(*liens, courant=titre),
        "specialite": specialite,
        "bouton": bouton,
        "regles": regles,
        "annuler": _url_fiche(specialite.pk) if specialite else reverse("ansm:specialites"),
        **extra,
    }


# --- Dashboard -----------------------------------------------------------------------------------------------------


@require_GET
@ansm_requis
def tableau_de_bord(request):
    """Entry points of the back-office, each with the number of items waiting for the ANSM."""
    aujourd_hui = timezone.localdate()
    compteurs = selectors.tableau_de_bord_referentiel(aujourd_hui=aujourd_hui)
    attente = (
        demandes_selectors.demandes_a_instruire(request.user)
        .order_by()
        .aggregate(nombre=Count("id"), plus_ancienne=Min("soumise_le"))
    )
    contexte = {
        "title": "Espace ANSM",
        "breadcrumb_data": {"current": "Espace ANSM"},
        "c": compteurs,
        "demandes_en_attente": attente["nombre"],
        "plus_ancienne": attente["plus_ancienne"],
        "jours_engagement": selectors.JOURS_ALERTE_ENGAGEMENT_AAP,
        "mois_cpc": selectors.MOIS_ALERTE_CPC,
        "jours_rapport": selectors.JOURS_ALERTE_RAPPORT,
    }
    return render(request, "ansm/tableau_de_bord.html", contexte)


# --- Spécialités ---------------------------------------------------------------------------------------------------


@require_GET
@ansm_requis
def specialites(request):
    """Every spécialité, the BDPM imports included: pick one to open (or create) its fiche."""
    form = forms.RechercheSpecialiteForm(request.GET or None)
    texte, statut = "", ""
    if form.is_valid():
        texte, statut = form.cleaned_data["q"], form.cleaned_data["statut"]
    liste = selectors.gestion_specialites(texte=texte, avec_statut={"avec": True, "sans": False}.get(statut))
    try:
        numero = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        numero = 1
    page = selectors.paginer(liste, numero=numero, par_page=25)
    parametres = request.GET.copy()
    parametres.pop("page", None)
    contexte = {
        "title": "Gestion du référentiel",
        "breadcrumb_data": _fil(courant="Référentiel"),
        "form": form,
        "page": page,
        "parametres": parametres.urlencode(),
        "types_historiques": TYPES_HISTORIQUES,
    }
    return render(request, "gestion/specialites.html", contexte)


@ansm_requis
def specialite_creer(request):
    form = forms.SpecialiteForm(request.POST or None)

    def appel(donnees):
        return services.specialite_creer(
            par=request.user, compositions=donnees["composition"], publiee=False, **form.donnees()
        )

    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes="Spécialité créée. Ajoutez-lui un statut dérogatoire puis publiez sa fiche.",
        suite=lambda s: _url_fiche(s.pk),
        contexte=_contexte_formulaire(None, "Nouvelle spécialité", bouton="Créer la spécialité"),
    )


@require_GET
@ansm_requis
def specialite(request, pk: int):
    specialite = selectors.gestion_specialite(pk=pk)
    if specialite is None:
        raise Http404("Cette spécialité n'existe pas.")
    acces = list(specialite.acces.all())
    contexte = {
        "title": specialite.nom,
        "breadcrumb_data": _fil(_lien_specialites(), courant=specialite.nom),
        "specialite": specialite,
        "acces": acces,
        "compositions": list(specialite.compositions.all()),
        "documents": list(specialite.documents.all()),
        "declarations": list(specialite.declarations_titulaire.all()),
        "historique": _lignes_historique(selectors.historique_de_fiche(specialite=specialite)[:5]),
        "types_historiques": TYPES_HISTORIQUES,
        "aujourd_hui": timezone.localdate(),
    }
    return render(request, "gestion/specialite.html", contexte)


@ansm_requis
def specialite_modifier(request, pk: int):
    specialite = get_object_or_404(Specialite, pk=pk)
    form = forms.SpecialiteForm(request.POST or None, instance=specialite)

    def appel(donnees):
        resultat = services.specialite_modifier(specialite=specialite, par=request.user, **form.donnees())
        # Rewriting an unchanged composition would drop what the textarea does not show (the BDPM's reference
        # dosage): only a real change goes to the service.
        compositions = specialite.compositions.select_related("substance").order_by("id")
        actuelle = [(c.substance.dci, c.dosage) for c in compositions]
        if [(c["substance"], c["dosage"]) for c in donnees["composition"]] != actuelle:
            services.specialite_definir_composition(
                specialite=resultat, compositions=donnees["composition"], par=request.user
            )
        return resultat

    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes="Spécialité modifiée.",
        suite=lambda s: _url_fiche(s.pk),
        contexte=_contexte_formulaire(specialite, "Modifier la spécialité", bouton="Enregistrer", regles="R28, R29"),
    )


@require_POST
@ansm_requis
def specialite_publication(request, pk: int):
    """Publish or unpublish a fiche (R1: the public référentiel shows published fiches with a status)."""
    specialite = get_object_or_404(Specialite, pk=pk)
    publier = request.POST.get("publiee") == "oui"
    try:
        services.specialite_modifier(specialite=specialite, par=request.user, publiee=publier)
    except ReferentielError as exc:
        messages.error(request, exc.texte)
    else:
        messages.success(request, "Fiche publiée." if publier else "Fiche retirée du référentiel public.")
    return redirect(_url_fiche(specialite.pk))


def _lignes_historique(historique) -> list[dict]:
    """Each history row with its changed fields as (field, before, after), for a readable table."""
    lignes = []
    for ligne in historique:
        champs = sorted(set(ligne.avant) | set(ligne.apres))
        lignes.append(
            {
                "ligne": ligne,
                "changements": [(c, ligne.avant.get(c, ""), ligne.apres.get(c, "")) for c in champs],
            }
        )
    return lignes


@require_GET
@ansm_requis
def historique(request, pk: int):
    specialite = get_object_or_404(Specialite.objects.only("id", "nom"), pk=pk)
    page = paginer(request, selectors.historique_de_fiche(specialite=specialite), par_page=30)
    contexte = {
        "title": f"Historique — {specialite.nom}",
        "breadcrumb_data": _fil(_lien_specialites(), _lien_fiche(specialite), courant="Historique"),
        "specialite": specialite,
        "page_obj": page,
        "lignes": _lignes_historique(page.object_list),
    }
    return render(request, "gestion/historique.html", contexte)


# --- Statuses: AAC, AAP, historical; AMM and AAC cessation; AAP commitment ----------------------------------------


def _acces(pk: int) -> AccesDerogatoire:
    return get_object_or_404(AccesDerogatoire.objects.select_related("specialite"), pk=pk)


@ansm_requis
def acces_creer(request, pk: int):
    specialite = get_object_or_404(Specialite, pk=pk)
    form = forms.AccesForm(request.POST or None, specialite=specialite)

    def appel(donnees):
        acces = services.acces_creer(
            specialite=specialite, type_acces=donnees["type_acces"], par=request.user, **form.donnees()
        )
        if acces.type_acces == TypeAcces.AAP and acces.etat == EtatAcces.EN_COURS:
            if acces.phase_aap == PhaseAAP.PRE_AMM:
                messages.info(
                    request,
                    "Accès précoce pré-AMM : les critères des AAC en cours sont réservés aux patients non éligibles "
                    "à l'AAP ; les patients éligibles y basculent à leur prochain renouvellement (R25).",
                )
            else:
                messages.info(
                    request,
                    "Accès précoce post-AMM : révisez au besoin les critères des AAC de la même situation "
                    "thérapeutique ; un patient hors des critères de l'AAP n'obtient pas d'AAC (R26).",
                )
        return acces

    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes="Statut ajouté.",
        suite=lambda a: _url_fiche(specialite.pk, f"acces-{a.pk}"),
        contexte=_contexte_formulaire(
            specialite, "Ajouter un statut", bouton="Ajouter le statut", regles="R5, R7, R23, R24, R25, R37"
        ),
    )


@ansm_requis
def acces_modifier(request, pk: int):
    acces = _acces(pk)
    form = forms.AccesForm(request.POST or None, specialite=acces.specialite, instance=acces)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.acces_modifier(acces=acces, par=request.user, **form.donnees()),
        succes="Statut modifié.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite,
            f"Modifier le statut {acces.get_type_acces_display()}",
            bouton="Enregistrer",
            regles="R5, R7, R23, R24, R25, R37",
            acces=acces,
        ),
    )


@ansm_requis
def acces_amm(request, pk: int):
    """R24: record the AMM of a medicine in AAC and the date from which no more AAC are delivered."""
    acces = _acces(pk)
    form = forms.AmmForm(
        request.POST or None,
        initial={"date_amm": acces.specialite.date_amm, "date_cessation": acces.date_cessation},
    )
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.acces_enregistrer_amm(
            acces=acces, date_amm=d["date_amm"], date_cessation=d["date_cessation"], par=request.user
        ),
        succes="AMM enregistrée : les AAC cessent à la date fixée.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite, "Enregistrer l'AMM et la cessation des AAC", bouton="Enregistrer l'AMM", regles="R24"
        ),
    )


@ansm_requis
def acces_engagement(request, pk: int):
    """R7, R23: record the laboratory's commitment to file an AAP (the deadline follows, never typed)."""
    acces = _acces(pk)
    form = forms.EngagementAAPForm(request.POST or None, instance=acces)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.acces_modifier(acces=acces, par=request.user, **form.donnees()),
        succes="Engagement de dépôt d'AAP enregistré.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite, "Engagement du laboratoire à déposer une AAP", bouton="Enregistrer", regles="R7, R23"
        ),
    )


@ansm_requis
def acces_prolonger(request, pk: int):
    """R23: extend the AAP filing deadline by at most 6 months."""
    acces = _acces(pk)
    form = forms.ProlongationForm(request.POST or None)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.acces_prolonger_delai_aap(
            acces=acces, duree_mois=d["duree_mois"], motif=d["motif"], par=request.user
        ),
        succes="Prolongation accordée : la date limite de dépôt de l'AAP est reportée.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite,
            "Prolonger le délai de dépôt de l'AAP",
            bouton="Accorder la prolongation",
            regles="R23",
            acces=acces,
        ),
    )


# --- Indications and critères d'octroi, PUT, documents, expected reports ------------------------------------------


@ansm_requis
def indication_creer(request, pk: int):
    acces = _acces(pk)
    form = forms.IndicationForm(request.POST or None)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.indication_creer(
            acces=acces, par=request.user, criteres=d["criteres"], **form.donnees()
        ),
        succes="Indication ajoutée avec ses critères d'octroi.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite, "Ajouter une indication", bouton="Ajouter l'indication", regles="R11, R23, R25, R45"
        ),
    )


@ansm_requis
def indication_modifier(request, pk: int):
    indication = get_object_or_404(
        Indication.objects.select_related("acces__specialite").prefetch_related("criteres"), pk=pk
    )
    form = forms.IndicationForm(request.POST or None, instance=indication)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.indication_modifier(
            indication=indication, par=request.user, criteres=d["criteres"], **form.donnees()
        ),
        succes="Indication modifiée.",
        suite=_url_fiche(indication.acces.specialite_id, f"acces-{indication.acces_id}"),
        contexte=_contexte_formulaire(
            indication.acces.specialite,
            "Modifier l'indication et ses critères d'octroi",
            bouton="Enregistrer",
            regles="R11, R25, R26",
        ),
    )


@require_POST
@ansm_requis
def indication_supprimer(request, pk: int):
    indication = get_object_or_404(Indication.objects.select_related("acces"), pk=pk)
    try:
        services.indication_supprimer(indication=indication, par=request.user)
    except ReferentielError as exc:
        messages.error(request, exc.texte)
    else:
        messages.success(request, "Indication retirée de la fiche.")
    return redirect(_url_fiche(indication.acces.specialite_id, f"acces-{indication.acces_id}"))


@ansm_requis
def put_creer(request, pk: int):
    acces = _acces(pk)
    form = forms.PUTForm(request.POST or None)

    def appel(donnees):
        champs = form.donnees()
        return services.put_creer(acces=acces, type_put=champs.pop("type_put"), par=request.user, **champs)

    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes="PUT ajouté.",
        suite=_url_fiche(acces.specialite_id, f"acces-{acces.pk}"),
        contexte=_contexte_formulaire(
            acces.specialite, "Ajouter une version du PUT", bouton="Ajouter le PUT", regles="R31, R33, R34, R37"
        ),
    )


def _put(pk: int) -> PUT:
    return get_object_or_404(PUT.objects.select_related("acces__specialite"), pk=pk)


@ansm_requis
def put_modifier(request, pk: int):
    put = _put(pk)
    form = forms.PUTForm(request.POST or None, instance=put)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.put_modifier(put=put, par=request.user, **form.donnees()),
        succes="PUT modifié.",
        suite=_url_fiche(put.acces.specialite_id, f"acces-{put.acces_id}"),
        contexte=_contexte_formulaire(
            put.acces.specialite, f"Modifier le {put}", bouton="Enregistrer", regles="R31, R33, R34"
        ),
    )


@ansm_requis
def put_valider(request, pk: int):
    """R32: validate a laboratory's PUT proposal."""
    put = _put(pk)
    form = forms.ValidationPropositionForm(request.POST or None, initial={"crpv": put.crpv})
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.put_valider_proposition(
            put=put, par=request.user, date_validation=d["date_validation"], crpv=d["crpv"]
        ),
        succes="Proposition de PUT validée.",
        suite=_url_fiche(put.acces.specialite_id, f"acces-{put.acces_id}"),
        contexte=_contexte_formulaire(
            put.acces.specialite, f"Valider la proposition du laboratoire ({put})", bouton="Valider", regles="R32, R33"
        ),
    )


@require_GET
@ansm_requis
def put_fichier(request, pk: int):
    put = _put(pk)
    return telecharger(put.fichier, nom=put.fichier.name.rsplit("/", 1)[-1], type_mime=put.type_mime)


@ansm_requis
def document_ajouter(request, pk: int):
    specialite = get_object_or_404(Specialite, pk=pk)
    form = forms.DocumentForm(request.POST or None, request.FILES or None, specialite=specialite)

    def appel(d):
        champs = {"version": d["version"], "public": d["public"]}
        if d["date_document"]:
            champs["date_document"] = d["date_document"]
        return services.document_ajouter(
            specialite=specialite,
            type_document=d["type_document"],
            titre=d["titre"],
            fichier=d["fichier"],
            acces=d["acces"],
            par=request.user,
            **champs,
        )

    return page_formulaire(
        request,
        form=form,
        appel=appel,
        succes="Document ajouté à la fiche.",
        suite=_url_fiche(specialite.pk, "documents"),
        contexte=_contexte_formulaire(specialite, "Ajouter un document", bouton="Ajouter le document", fichier=True),
    )


@require_POST
@ansm_requis
def document_supprimer(request, pk: int):
    document = get_object_or_404(Document, pk=pk)
    try:
        services.document_supprimer(document=document, par=request.user)
    except ReferentielError as exc:
        messages.error(request, exc.texte)
    else:
        messages.success(request, "Document retiré de la fiche.")
    return redirect(_url_fiche(document.specialite_id, "documents"))


@ansm_requis
def rapport_creer(request, pk: int):
    specialite = get_object_or_404(Specialite, pk=pk)
    form = forms.RapportCreerForm(request.POST or None, specialite=specialite)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.rapport_creer(par=request.user, **d),
        succes="Rapport de synthèse attendu enregistré.",
        suite=lambda r: reverse("ansm:rapport", args=[r.pk]),
        contexte=_contexte_formulaire(
            specialite, "Attendre un rapport de synthèse", bouton="Enregistrer", regles="R34"
        ),
    )


# --- Periodic reports (R34, R35) -------------------------------------------------------------------------------------


@require_GET
@ansm_requis
def rapports(request):
    form = forms.RapportFiltreForm(request.GET or None)
    filtres = form.cleaned_data if form.is_valid() else {}
    liste = selectors.rapports_liste(
        aujourd_hui=timezone.localdate(),
        statut=filtres.get("statut") or None,
        en_retard=bool(filtres.get("en_retard")),
        texte=filtres.get("q") or "",
    )
    parametres = request.GET.copy()
    parametres.pop("page", None)
    contexte = {
        "title": "Rapports périodiques de synthèse",
        "breadcrumb_data": _fil(courant="Rapports périodiques"),
        "form": form,
        "page_obj": paginer(request, liste),
        "parametres": parametres.urlencode(),
    }
    return render(request, "gestion/rapports.html", contexte)


# action -> (button label, report states it starts from)
ACTIONS_RAPPORT = {
    "recevoir": ("Marquer comme reçu", {StatutRapport.ATTENDU}),
    "evaluer": ("Commencer l'évaluation", {StatutRapport.RECU}),
    "valider": ("Valider le résumé", {StatutRapport.RECU, StatutRapport.EN_EVALUATION}),
    "publier": ("Publier le résumé sur la fiche", {StatutRapport.VALIDE}),
}


def _page_rapport(request, rapport, *, lie: dict | None = None, statut: int = 200):
    actions = []
    for nom, (libelle, depuis) in ACTIONS_RAPPORT.items():
        if rapport.statut not in depuis or (nom == "publier" and rapport.resume_publie_le):
            continue
        form = (lie or {}).get(nom)
        if form is None and nom == "valider":
            form = forms.RapportValiderForm(initial={"resume": rapport.resume})
        actions.append({"nom": nom, "libelle": libelle, "form": form})
    contexte = {
        "title": f"Rapport de synthèse — {rapport.acces.specialite.nom}",
        "breadcrumb_data": _fil(
            {"url": reverse("ansm:rapports"), "title": "Rapports périodiques"}, courant=str(rapport)
        ),
        "rapport": rapport,
        "actions": actions,
        "en_retard": rapport.statut == StatutRapport.ATTENDU and rapport.date_echeance < timezone.localdate(),
    }
    return render(request, "gestion/rapport.html", contexte, status=statut)


def _rapport(pk: int):
    rapport = selectors.rapport_de_gestion(pk=pk)
    if rapport is None:
        raise Http404("Ce rapport n'existe pas.")
    return rapport


@require_GET
@ansm_requis
def rapport(request, pk: int):
    return _page_rapport(request, _rapport(pk))


@require_POST
@ansm_requis
def rapport_action(request, pk: int, action: str):
    """R34-R35: move a report forward (received, under evaluation, validated with its résumé, résumé published)."""
    rapport = _rapport(pk)
    if action not in ACTIONS_RAPPORT:
        raise Http404("Action inconnue.")
    if action == "valider":
        form = forms.RapportValiderForm(request.POST)
        if form.is_valid():
            _, reussi = executer(
                form,
                lambda d: services.rapport_valider(
                    rapport=rapport, resume=d["resume"], publier=d["publier"], par=request.user
                ),
            )
            if reussi:
                messages.success(
                    request,
                    "Résumé validé." + (" Il est publié sur la fiche." if form.cleaned_data["publier"] else ""),
                )
                return redirect("ansm:rapport", rapport.pk)
        return _page_rapport(request, _rapport(pk), lie={action: form}, statut=400)
    service = {
        "recevoir": services.rapport_recevoir,
        "evaluer": services.rapport_evaluer,
        "publier": services.rapport_publier_resume,
    }[action]
    try:
        service(rapport=rapport, par=request.user)
    except ReferentielError as exc:
        messages.error(request, exc.texte)
    else:
        messages.success(request, f"{ACTIONS_RAPPORT[action][0]} : fait.")
    return redirect("ansm:rapport", rapport.pk)


@require_GET
@ansm_requis
def rapport_fichier(request, pk: int):
    rapport = _rapport(pk)
    return telecharger(rapport.fichier, nom=rapport.fichier.name.rsplit("/", 1)[-1], type_mime=rapport.type_mime)


# --- CPC and signalements (R38-R40) ------------------------------------------------------------------------------


@require_GET
@ansm_requis
def cpc_liste(request):
    etape = request.GET.get("etape") or None
    if etape not in (None, *EtapeCPC.values):
        etape = None
    a_echeance = request.GET.get("a_echeance") == "1"
    liste = selectors.cpc_liste(
        aujourd_hui=timezone.localdate(),
        etape=etape,
        a_echeance=a_echeance,
        termines=request.GET.get("termines") == "1",
    )
    contexte = {
        "title": "Cadres de prescription compassionnelle",
        "breadcrumb_data": _fil(courant="CPC"),
        "page_obj": paginer(request, liste),
        "etapes": EtapeCPC.choices,
        "etape": etape or "",
        "a_echeance": a_echeance,
        "termines": request.GET.get("termines") == "1",
        "mois_cpc": selectors.MOIS_ALERTE_CPC,
    }
    return render(request, "gestion/cpc_liste.html", contexte)


@ansm_requis
def cpc_creer(request, pk: int):
    specialite = get_object_or_404(Specialite, pk=pk)
    initial = {}
    if request.GET.get("signalement", "").isdigit():
        initial["signalement"] = int(request.GET["signalement"])
    form = forms.CPCCreerForm(request.POST or None, specialite=specialite, initial=initial)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.cpc_creer(
            specialite=specialite,
            par=request.user,
            signalement=d["signalement"],
            origine_signalement=d["origine_signalement"],
            conditions_utilisation=d["conditions_utilisation"],
        ),
        succes="Projet de CPC créé.",
        suite=lambda a: reverse("ansm:cpc", args=[a.pk]),
        contexte=_contexte_formulaire(
            specialite, "Nouveau projet de CPC", bouton="Créer le projet", regles="R38, R39"
        ),
    )


# action -> (button label, steps it starts from, date field, its label, required, help text)
ACTIONS_CPC = {
    "transmettre": (
        "Transmettre au titulaire pour observations",
        {EtapeCPC.BROUILLON},
        "date_entree_vigueur_prevue",
        "Date d'entrée en vigueur prévue",
        True,
        "Le titulaire de l'AMM ou l'exploitant est informé par courriel (R40).",
    ),
    "publier": (
        "Publier le CPC",
        {EtapeCPC.TRANSMIS_TITULAIRE},
        "date_debut",
        "Date d'entrée en vigueur",
        False,
        "Par défaut, la date prévue. Le CPC dure 3 ans (R38) ; le titulaire est informé (R40).",
    ),
    "renouveler": (
        "Renouveler pour 3 ans",
        {EtapeCPC.PUBLIE},
        "date_debut",
        "Début de la nouvelle période",
        False,
        "Par défaut aujourd'hui, sans interruption avec la période en cours (R38).",
    ),
    "terminer": (
        "Mettre fin au CPC",
        {EtapeCPC.BROUILLON, EtapeCPC.TRANSMIS_TITULAIRE, EtapeCPC.PUBLIE},
        "date_fin",
        "Date de fin",
        False,
        "Par défaut, le terme des 3 ans s'il est atteint, sinon aujourd'hui (R38).",
    ),
}


def _form_cpc(nom: str, data=None) -> forms.DateForm:
    _, _, champ, libelle, obligatoire, aide = ACTIONS_CPC[nom]
    return forms.DateForm(data, champ=champ, libelle=libelle, obligatoire=obligatoire, aide=aide, prefix=nom)


def _page_cpc(request, acces, *, lie: dict | None = None, statut: int = 200):
    actions = []
    if acces.etat != EtatAcces.TERMINE:
        for nom, (libelle, depuis, *_) in ACTIONS_CPC.items():
            if (acces.etape_cpc or EtapeCPC.BROUILLON) in depuis:
                actions.append({"nom": nom, "libelle": libelle, "form": (lie or {}).get(nom) or _form_cpc(nom)})
    contexte = {
        "title": f"CPC — {acces.specialite.nom}",
        "breadcrumb_data": _fil({"url": reverse("ansm:cpc_liste"), "title": "CPC"}, courant=acces.specialite.nom),
        "acces": acces,
        "specialite": acces.specialite,
        "actions": actions,
        "renouvellements": list(acces.renouvellements_cpc.all()),
        "signalements": list(acces.signalements.all()),
    }
    return render(request, "gestion/cpc.html", contexte, status=statut)


def _cpc(pk: int) -> AccesDerogatoire:
    acces = selectors.cpc_de_gestion(pk=pk)
    if acces is None:
        raise Http404("Ce CPC n'existe pas.")
    return acces


@require_GET
@ansm_requis
def cpc(request, pk: int):
    return _page_cpc(request, _cpc(pk))


@require_POST
@ansm_requis
def cpc_action(request, pk: int, action: str):
    acces = _cpc(pk)
    if action not in ACTIONS_CPC:
        raise Http404("Action inconnue.")
    form = _form_cpc(action, request.POST)
    if form.is_valid():
        date = form.cleaned_data[ACTIONS_CPC[action][2]]
        service = {
            "transmettre": lambda: services.cpc_transmettre_titulaire(
                acces=acces, date_entree_vigueur_prevue=date, par=request.user
            ),
            "publier": lambda: services.cpc_publier(acces=acces, date_debut=date, par=request.user),
            "renouveler": lambda: services.cpc_renouveler(acces=acces, date_debut=date, par=request.user),
            "terminer": lambda: services.cpc_terminer(acces=acces, date_fin=date, par=request.user),
        }[action]
        _, reussi = executer(form, lambda d: service())
        if reussi:
            messages.success(request, f"{ACTIONS_CPC[action][0]} : fait.")
            return redirect("ansm:cpc", acces.pk)
    return _page_cpc(request, _cpc(pk), lie={action: form}, statut=400)


@ansm_requis
def signalements(request):
    """R39: the signalements received, and a form to record one on a substance."""
    form = forms.SignalementForm(request.POST or None)
    statut = 200
    if request.method == "POST":
        if form.is_valid():
            _, reussi = executer(
                form,
                lambda d: services.signalement_creer(
                    par=request.user, substance=d["dci"], **{k: d[k] for k in form.champs}
                ),
            )
            if reussi:
                messages.success(request, "Signalement enregistré.")
                return redirect("ansm:signalements")
        statut = 400
    contexte = {
        "title": "Signalements",
        "breadcrumb_data": _fil(courant="Signalements"),
        "form": form,
        "page_obj": paginer(
            request,
            selectors.signalements_liste(
                origine=request.GET.get("origine") or None, sans_cpc=request.GET.get("sans_cpc") == "1"
            ),
        ),
    }
    return render(request, "gestion/signalements.html", contexte, status=statut)


@ansm_requis
def signalement_creer(request, pk: int):
    """R39: record a signalement about this spécialité."""
    specialite = get_object_or_404(Specialite, pk=pk)
    form = forms.SignalementForm(request.POST or None, specialite=specialite)
    return page_formulaire(
        request,
        form=form,
        appel=lambda d: services.signalement_creer(
            par=request.user, specialite=specialite, substance=d["dci"], **{k: d[k] for k in form.champs}
        ),
        succes="Signalement enregistré.",
        suite=_url_fiche(specialite.pk, "signalements"),
        contexte=_contexte_formulaire(specialite, "Enregistrer un signalement", bouton="Enregistrer", regles="R39"),
    )


# --- AAP commitments and the laboratories' requests (R23, R29, R32) --------------------------------------------------


@require_GET
@ansm_requis
def engagements_aap(request):
    aujourd_hui = timezone.localdate()
    a_echeance = request.GET.get("a_echeance") == "1"
    liste = selectors.engagements_aap(
        aujourd_hui=aujourd_hui, jours=selectors.JOURS_ALERTE_ENGAGEMENT_AAP if a_echeance else None
    )
    contexte = {
        "title": "Engagements de dépôt d'AAP",
        "breadcrumb_data": _fil(courant="Engagements de dépôt d'AAP"),
        "page_obj": paginer(request, liste),
        "a_echeance": a_echeance,
        "jours": selectors.JOURS_ALERTE_ENGAGEMENT_AAP,
        "aujourd_hui": aujourd_hui,
    }
    return render(request, "gestion/engagements.html", contexte)


def _page_laboratoires(request, *, lie: dict | None = None, statut: int = 200):
    lie = lie or {}
    prolongations = [
        (d, lie.get(("prolongation", d.pk)) or forms.ReponseForm(prefix=f"prolongation-{d.pk}"))
        for d in selectors.prolongations_en_attente()
    ]
    declarations = [
        (d, lie.get(("declaration", d.pk)) or forms.ReponseForm(prefix=f"declaration-{d.pk}"))
        for d in selectors.declarations_en_attente()
    ]
    contexte = {
        "title": "Demandes des laboratoires",
        "breadcrumb_data": _fil(courant="Demandes des laboratoires"),
        "prolongations": prolongations,
        "declarations": declarations,
        "propositions": list(selectors.propositions_put_en_attente()),
    }
    return render(request, "gestion/laboratoires.html", contexte, status=statut)


@require_GET
@ansm_requis
def demandes_laboratoires(request):
    return _page_laboratoires(request)


@require_POST
@ansm_requis
def prolongation_decider(request, pk: int, decision: str):
    """R23: grant (the extension is recorded) or refuse a laboratory's extension request."""
    demande = get_object_or_404(DemandeProlongation, pk=pk)
    form = forms.ReponseForm(request.POST, prefix=f"prolongation-{pk}")
    form.is_valid()
    if decision == "accorder":
        appel = lambda d: services.prolongation_accorder(  # noqa: E731
            demande=demande, reponse=d.get("motif", ""), par=request.user
        )
    elif decision == "refuser":
        appel = lambda d: services.prolongation_refuser(  # noqa: E731
            demande=demande, motif=d.get("motif", ""), par=request.user
        )
    else:
        raise Http404("Décision inconnue.")
    _, reussi = executer(form, appel)
    if not reussi:
        return _page_laboratoires(request, lie={("prolongation", pk): form}, statut=400)
    messages.success(request, "Prolongation accordée." if decision == "accorder" else "Prolongation refusée.")
    return redirect("ansm:demandes_laboratoires")


@require_POST
@ansm_requis
def declaration_decider(request, pk: int, decision: str):
    """R29: apply a reported change of rights holder to the product, or reject it."""
    declaration = get_object_or_404(DeclarationChangementTitulaire, pk=pk)
    form = forms.ReponseForm(request.POST, prefix=f"declaration-{pk}")
    form.is_valid()
    if decision == "appliquer":
        appel = lambda d: services.declaration_titulaire_appliquer(  # noqa: E731
            declaration=declaration, reponse=d.get("motif", ""), par=request.user
        )
    elif decision == "rejeter":
        appel = lambda d: services.declaration_titulaire_rejeter(  # noqa: E731
            declaration=declaration, motif=d.get("motif", ""), par=request.user
        )
    else:
        raise Http404("Décision inconnue.")
    _, reussi = executer(form, appel)
    if not reussi:
        return _page_laboratoires(request, lie={("declaration", pk): form}, statut=400)
    messages.success(
        request, "Changement de titulaire pris en compte." if decision == "appliquer" else "Déclaration rejetée."
    )
    return redirect("ansm:demandes_laboratoires")
