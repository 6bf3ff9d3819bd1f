"""The prescriber's guided, multi-step request form (DSFR stepper), starting from the référentiel.

Each step's POST saves the draft (services.demande_modifier) then moves on, so nothing typed is lost. The
pharmacist reuses the patient and treatment steps to complete the request while checking it (R14).
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from comptes.enums import Role
from referentiel.models import Specialite

from .. import forms, selectors, services
from ..enums import CanalAcces, TypeMedicament
from ..exceptions import DemandeError
from .commun import role_requis

ETAPES = [
    ("medicament", "Médicament"),
    ("indication", "Indication"),
    ("criteres", "Critères d'octroi et justification"),
    ("patient", "Patient"),
    ("traitement", "Traitement"),
    ("engagements", "Engagements et PUI"),
    ("recapitulatif", "Récapitulatif et transmission"),
]
TITRES = dict(ETAPES)
# R14: the pharmacist completes what they can check; the attestations and commitments stay the prescriber's.
ETAPES_PHARMACIEN = ("patient", "traitement")
PREMIERE_ETAPE_RENOUVELLEMENT = "traitement"


def etapes_pour(utilisateur) -> list[tuple[str, str]]:
    if utilisateur.role == Role.PHARMACIEN:
        return [(slug, titre) for slug, titre in ETAPES if slug in ETAPES_PHARMACIEN]
    if utilisateur.role == Role.PRESCRIPTEUR:
        return ETAPES
    return []


def _stepper(etapes, slug: str) -> dict:
    slugs = [s for s, _ in etapes]
    index = slugs.index(slug)
    suivante = etapes[index + 1][1] if index + 1 < len(etapes) else None
    return {
        "current_step_id": index + 1,
        "current_step_title": TITRES[slug],
        "next_step_title": suivante,
        "total_steps": len(etapes),
        "heading_tag": "h2",
    }


def _ajouter_erreurs(form, exc: DemandeError) -> None:
    for erreur in exc.erreurs:
        form.add_error(erreur.champ if erreur.champ in form.fields else None, erreur.texte)


@role_requis(Role.PRESCRIPTEUR)
def nouvelle(request):
    """Step 1 of a new request: search the référentiel for the spécialité, or describe a non-referenced
    medicine (R11, R12). A hidden idempotency key makes a double submission create one request."""
    q = request.GET.get("q", "").strip()
    specialites = selectors.specialites_rechercher(q) if q else []
    preselection = request.GET.get("specialite")
    if preselection and preselection.isdigit():
        specialites = list(Specialite.objects.filter(pk=int(preselection), publiee=True)) or specialites
    cle = request.POST.get("cle_idempotence") or uuid.uuid4().hex
    choix_form = forms.ChoixSpecialiteForm(specialites=specialites, initial={"cle_idempotence": cle})
    libre_form = forms.NonReferenceForm(initial={"cle_idempotence": cle})
    statut = 200
    if request.method == "POST":
        branche = request.POST.get("branche")
        if branche == "non_reference":
            libre_form = forms.NonReferenceForm(request.POST)
            form, donnees = libre_form, None
            if libre_form.is_valid():
                donnees = {k: v for k, v in libre_form.cleaned_data.items() if k != "cle_idempotence"}
                donnees["type_medicament"] = TypeMedicament.NON_REFERENCE
        else:
            choix_form = forms.ChoixSpecialiteForm(request.POST, specialites=specialites)
            form, donnees = choix_form, None
            if choix_form.is_valid():
                donnees = {
                    "type_medicament": TypeMedicament.REFERENCE_INDICATION,
                    "specialite": choix_form.cleaned_data["specialite"],
                }
        if donnees is not None:
            try:
                demande, _ = services.demande_creer(
                    par=request.user, donnees=donnees, cle_idempotence=form.cleaned_data["cle_idempotence"]
                )
            except DemandeError as exc:
                _ajouter_erreurs(form, exc)
                statut = exc.statut_http
            else:
                messages.success(request, f"Brouillon {demande.reference} enregistré.")
                return redirect("demandes:etape", demande.reference, "indication")
        else:
            statut = 400
    contexte = {
        "title": "Nouvelle demande d'AAC",
        "breadcrumb_data": {
            "links": [{"url": reverse("demandes:espace"), "title": "Mes demandes"}],
            "current": "Nouvelle demande",
        },
        "stepper": _stepper(ETAPES, "medicament"),
        "q": q,
        "specialites": specialites,
        "choix_form": choix_form,
        "libre_form": libre_form,
    }
    return render(request, "demandes/nouvelle.html", contexte, status=statut)


def _formulaire(etape: str, demande, data=None, files=None):
    """The form of a step, with the référentiel choices it needs."""
    if etape == "medicament":
        if demande.type_medicament == TypeMedicament.NON_REFERENCE:
            return forms.MedicamentModificationForm(data, demande=demande)
        return None
    if etape == "indication":
        indications = selectors.indications_aac(demande.specialite) if demande.specialite_id else []
        return forms.IndicationForm(data, demande=demande, indications=indications)
    if etape == "criteres":
        return forms.CriteresForm(
            data,
            demande=demande,
            criteres=selectors.criteres_de(demande.indication) if demande.indication_id else [],
            aap=selectors.aap_couvrant(demande),
        )
    if etape == "patient":
        return forms.PatientForm(data, demande=demande)
    if etape == "traitement":
        return forms.TraitementForm(data, demande=demande)
    if etape == "engagements":
        return forms.EngagementsForm(
            data,
            demande=demande,
            puis=selectors.puis_selectionnables(demande.prescripteur),
            pharmaciens=selectors.pharmaciens_selectionnables(demande.prescripteur),
        )
    return None


@login_required
def etape(request, reference, etape):
    demande = selectors.demande_detail(request.user, reference)
    etapes = etapes_pour(request.user)
    if etape not in dict(etapes):
        raise Http404
    actions = {t.nom for t in selectors.actions_disponibles(request.user, demande)}
    if not actions & {"modifier", "completer"}:
        messages.info(request, "Cette demande ne peut plus être modifiée dans son état actuel.")
        return redirect("demandes:detail", demande.reference)
    services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PAGE)

    slugs = [s for s, _ in etapes]
    suivante = slugs[slugs.index(etape) + 1] if slugs.index(etape) + 1 < len(slugs) else None
    statut = 200
    erreur = None
    form = _formulaire(etape, demande, request.POST if request.method == "POST" else None)
    q = request.GET.get("q", "").strip()
    choix_form = None
    if etape == "medicament" and demande.type_medicament != TypeMedicament.NON_REFERENCE:
        specialites = selectors.specialites_rechercher(q) if q else []
        choix_form = forms.ChangementSpecialiteForm(
            request.POST if request.method == "POST" else None,
            specialites=specialites,
            initial={"version": demande.version},
        )

    if request.method == "POST":
        courant = choix_form if choix_form is not None else form
        if courant is None:
            raise Http404
        if courant.is_valid():
            if courant is choix_form:
                donnees = {
                    "type_medicament": TypeMedicament.REFERENCE_INDICATION,
                    "specialite": choix_form.cleaned_data["specialite"],
                    "indication": None,
                }
                attestations = None
            else:
                donnees, attestations = courant.donnees(), courant.attestations()
            try:
                services.demande_modifier(
                    demande=demande,
                    par=request.user,
                    version=courant.cleaned_data["version"],
                    donnees=donnees,
                    attestations=attestations,
                )
            except DemandeError as exc:
                _ajouter_erreurs(courant, exc)
                statut, erreur = exc.statut_http, exc
            else:
                if suivante is None:
                    return redirect("demandes:detail", demande.reference)
                return redirect("demandes:etape", demande.reference, suivante)
        else:
            statut = 400
        demande = selectors.demande_detail(request.user, reference)

    contexte = {
        "title": f"{TITRES[etape]} — demande {demande.reference}",
        "breadcrumb_data": {
            "links": [
                {"url": reverse("demandes:espace"), "title": "Demandes"},
                {"url": reverse("demandes:detail", args=[demande.reference]), "title": demande.reference},
            ],
            "current": TITRES[etape],
        },
        "demande": demande,
        "etape": etape,
        "etapes": etapes,
        "stepper": _stepper(etapes, etape),
        "precedente": slugs[slugs.index(etape) - 1] if slugs.index(etape) > 0 else None,
        "form": form,
        "choix_form": choix_form,
        "q": q,
        "erreur": erreur,
    }
    if etape == "recapitulatif":
        contexte["controles"] = services.demande_controler(demande=demande)
        contexte["motifs_evaluation"] = selectors.octroi_immediat_motifs(demande)
        contexte["transmettre_form"] = forms.VersionForm(initial={"version": demande.version}, prefix="transmettre")
        contexte["peut_transmettre"] = "transmettre" in actions
    if etape == "criteres":
        contexte["aap"] = selectors.aap_couvrant(demande)
    return render(request, "demandes/etape.html", contexte, status=statut)
