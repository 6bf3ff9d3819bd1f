"""Pages shared by every party: the landing page, a request's page (summary, timeline, decision, attachments,
the actions the workflow table allows), the action endpoint, the decision PDF and attachment downloads.

Every request is looked up through `selectors.demande_detail` / `demandes_visibles_par`: someone who is not party
to it gets a 404, whatever their role. Every page showing patient data logs the read.
"""

import datetime
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from comptes.enums import Role

from .. import forms, selectors, services, workflow
from ..enums import BADGE_STATUT, CanalAcces, StatutDemande
from ..exceptions import DemandeError, TransitionInterdite
from ..filters import DemandeFilter

PAR_PAGE = 20


def role_requis(*roles):
    """Log-in required, then one of these roles (403 otherwise: the page is not for this role)."""

    def decorer(vue):
        @wraps(vue)
        @login_required
        def enveloppe(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied
            return vue(request, *args, **kwargs)

        return enveloppe

    return decorer


def paginer(request, queryset):
    return Paginator(queryset, PAR_PAGE).get_page(request.GET.get("page"))


def liste_contexte(request, queryset, *, titre: str, **extra) -> dict:
    """Context of a request list: the shared FilterSet, one page of rows, badge classes."""
    filtre = DemandeFilter(request.GET or None, queryset=queryset)
    page = paginer(request, filtre.qs)
    return {"title": titre, "filtre": filtre, "page_obj": page, "badges": BADGE_STATUT, **extra}


@require_GET
@login_required
def espace(request):
    """ "Mes demandes": the prescriber's list; the pharmacist's PUI inbox; the ANSM's requests to review."""
    utilisateur = request.user
    if utilisateur.role == Role.PHARMACIEN:
        return redirect("demandes:boite_pui")
    if utilisateur.role in (Role.EVALUATEUR, Role.ADMINISTRATEUR):
        return redirect("ansm:demandes")
    if utilisateur.role != Role.PRESCRIPTEUR:
        raise PermissionDenied
    contexte = liste_contexte(
        request,
        selectors.demandes_recentes(utilisateur),
        titre="Mes demandes",
        breadcrumb_data={"current": "Mes demandes"},
    )
    return render(request, "demandes/liste.html", contexte)


# --- A request's page and its actions ---------------------------------------------------------------------------

# action -> the form that carries its input; "modifier"/"completer" link to the steps, "joindre_piece" has its own.
FORMULAIRES = {
    "transmettre": forms.VersionForm,
    "renvoyer": forms.RenvoiForm,
    "soumettre": forms.VersionForm,
    "demander_complement": forms.ComplementDemandeForm,
    "repondre_complement": forms.ComplementReponseForm,
    "octroyer": forms.OctroiForm,
    "refuser": forms.RefusForm,
    "regulariser": forms.CommentaireForm,
    "annuler": forms.CommentaireForm,
    "former_recours": forms.RecoursForm,
    "renouveler": forms.RenouvellementForm,
    "interroger_laboratoire": forms.InformationLaboratoireForm,
    "assigner": forms.AssignationForm,
    "accueillir_recours": forms.RecoursAccueilForm,
    "rejeter_recours": forms.RecoursRejetForm,
}
DELAI_REPONSE_PROPOSE = datetime.timedelta(days=15)


def _formulaire_initial(nom: str, demande):
    initial = {"version": demande.version}
    if nom in ("demander_complement", "interroger_laboratoire"):
        initial["date_limite"] = timezone.localdate() + DELAI_REPONSE_PROPOSE
    if nom == "interroger_laboratoire":
        laboratoire = selectors.laboratoire_de_commande(demande)
        initial["laboratoire"] = laboratoire.pk if laboratoire else None
    if nom == "assigner":
        initial["evaluateur"] = demande.evaluateur_id
    if nom in ("octroyer", "accueillir_recours"):
        laboratoire = selectors.laboratoire_de_commande(demande)
        initial.update(
            duree_jours=demande.duree_traitement_jours,
            laboratoire=laboratoire.pk if laboratoire else None,
            reserve_hospitalier="non"
            if demande.specialite_id and not demande.specialite.reserve_hospitalier
            else "oui",
            restriction_prescripteurs=demande.specialite.restriction_prescripteurs if demande.specialite_id else "",
        )
    if nom == "renouveler":
        initial["cle_idempotence"] = uuid.uuid4().hex
    return FORMULAIRES[nom](initial=initial, prefix=nom)


def contexte_detail(
    request,
    demande,
    *,
    lie: dict | None = None,
    erreur: DemandeError | None = None,
    url_action: str = "demandes:action",
) -> dict:
    """Everything the request page shows. `lie` holds a bound form that failed, keyed by action; `url_action` is
    the route the action forms post to (the shared page's, or the évaluateur's review page's)."""
    actions = selectors.actions_disponibles(request.user, demande)
    noms = {t.nom for t in actions}
    formulaires = []
    for t in actions:
        if t.nom in FORMULAIRES:
            form = (lie or {}).get(t.nom) or _formulaire_initial(t.nom, demande)
            formulaires.append(
                {"transition": t, "form": form, "url": reverse(url_action, args=[demande.reference, t.nom])}
            )
    decision = selectors.decision_de(demande)
    from .depot import etapes_pour

    return {
        "title": f"Demande {demande.reference}",
        "breadcrumb_data": {
            "links": [{"url": reverse("demandes:espace"), "title": "Demandes"}],
            "current": demande.reference,
        },
        "demande": demande,
        "decision": decision,
        "recours": getattr(decision, "recours", None) if decision else None,
        "badge": BADGE_STATUT.get(demande.statut, ""),
        "formulaires": formulaires,
        "peut_modifier": bool(noms & {"modifier", "completer"}),
        "etapes": etapes_pour(request.user),
        "peut_joindre": "joindre_piece" in noms,
        "piece_form": forms.PieceForm(),
        "complement": selectors.complement_en_attente(demande),
        "motifs_evaluation": selectors.octroi_immediat_motifs(demande)
        if demande.statut in (StatutDemande.BROUILLON, StatutDemande.RENVOYEE, StatutDemande.TRANSMISE_PHARMACIEN)
        else [],
        "erreur": erreur,
        "est_ansm": request.user.est_ansm,
    }


@require_GET
@login_required
def detail(request, reference):
    return _page_detail(request, reference)


MESSAGES_SUCCES = {
    "transmettre": "La demande a été transmise au pharmacien.",
    "renvoyer": "La demande a été renvoyée au prescripteur.",
    "demander_complement": "La demande de complément a été envoyée à la PUI.",
    "repondre_complement": "Votre réponse a été transmise à l'ANSM.",
    "regulariser": "La régularisation a posteriori est enregistrée.",
    "annuler": "La demande a été annulée.",
    "former_recours": "Le recours gracieux est enregistré.",
    "interroger_laboratoire": "La demande d'information a été envoyée au laboratoire (R16).",
    "assigner": "La demande est assignée.",
    "rejeter_recours": "Le rejet du recours gracieux est enregistré et notifié au prescripteur.",
}


def _executer(nom: str, demande, par, donnees: dict) -> tuple[str, object]:
    """Call the action's service; returns the success message and the request to show next."""
    version = donnees["version"]
    if nom == "transmettre":
        demande = services.demande_transmettre(demande=demande, par=par, version=version)
    elif nom == "renvoyer":
        demande = services.demande_renvoyer(
            demande=demande, par=par, version=version, commentaire=donnees["commentaire"]
        )
    elif nom == "soumettre":
        demande = services.demande_soumettre(demande=demande, par=par, version=version)
        if demande.statut == StatutDemande.OCTROYEE:
            return f"AAC octroyée immédiatement : n° {demande.decision.numero_aac} (R15).", demande
        return "La demande a été soumise à l'ANSM ; elle est en cours d'évaluation.", demande
    elif nom == "demander_complement":
        services.complement_demander(
            demande=demande, par=par, version=version, question=donnees["question"], date_limite=donnees["date_limite"]
        )
    elif nom == "repondre_complement":
        services.complement_repondre(
            demande=demande,
            par=par,
            version=version,
            reponse=donnees["reponse"],
            fichiers=[donnees["fichier"]] if donnees.get("fichier") else [],
        )
    elif nom == "octroyer":
        decision = services.demande_octroyer(
            demande=demande,
            par=par,
            version=version,
            **champs_octroi(donnees),
        )
        return f"AAC octroyée : n° {decision.numero_aac}.", demande
    elif nom == "refuser":
        services.demande_refuser(
            demande=demande,
            par=par,
            version=version,
            motif=donnees["motif"],
            motif_texte=donnees["motif_texte"],
            commentaire=donnees["commentaire"],
        )
        return "Le refus est enregistré ; la décision est disponible.", demande
    elif nom == "regulariser":
        services.demande_regulariser(demande=demande, par=par, version=version, commentaire=donnees["commentaire"])
    elif nom == "annuler":
        services.demande_annuler(demande=demande, par=par, version=version, commentaire=donnees["commentaire"])
    elif nom == "former_recours":
        services.recours_former(demande=demande, par=par, version=version, motif=donnees["motif"])
    elif nom == "interroger_laboratoire":
        services.complement_laboratoire_demander(
            demande=demande,
            par=par,
            version=version,
            laboratoire=donnees["laboratoire"],
            pieces=donnees["pieces"],
            date_limite=donnees["date_limite"],
            question=donnees["question"],
        )
    elif nom == "assigner":
        demande = services.demande_assigner(
            demande=demande, evaluateur=donnees["evaluateur"], par=par, version=version
        )
        qui = donnees["evaluateur"]
        return f"La demande {demande.reference} est assignée à {qui.nom_complet or qui.email}.", demande
    elif nom == "accueillir_recours":
        decision = services.recours_accueillir(
            demande=demande,
            par=par,
            version=version,
            reponse=donnees["reponse"],
            **champs_octroi(donnees),
        )
        return f"Recours accueilli : la décision est réformée, AAC n° {decision.numero_aac} octroyée.", demande
    elif nom == "rejeter_recours":
        services.recours_rejeter(demande=demande, par=par, version=version, reponse=donnees["reponse"])
    elif nom == "renouveler":
        nouvelle, _ = services.demande_renouveler(
            demande=demande, par=par, version=version, cle_idempotence=donnees["cle_idempotence"]
        )
        return (
            f"Renouvellement créé : {nouvelle.reference}. Complétez les données de la période écoulée (R46).",
            nouvelle,
        )
    return MESSAGES_SUCCES[nom], demande


def erreurs_sur_formulaire(form, exc: DemandeError) -> None:
    """Each broken rule under the field it names (screen readers announce it there); the page shows them all."""
    for e in exc.erreurs:
        if e.champ in form.fields:
            form.add_error(e.champ, e.texte)


def champs_octroi(donnees: dict) -> dict:
    """The grant form's answers as the services take them: the grant, the grant on appeal and their preview."""
    return {
        "duree_jours": donnees["duree_jours"],
        "laboratoire": donnees["laboratoire"],
        "reserve_hospitalier": donnees["reserve_hospitalier"] == "oui",
        "restriction_prescripteurs": donnees["restriction_prescripteurs"],
        "commentaire": donnees["commentaire"],
    }


def refuser_si_role_exclu(utilisateur, action: str) -> None:
    """A party whose role never takes this action (the workflow table) gets a 403 before its input is read: the
    same answer whatever it posts, as the API gives."""
    try:
        workflow.role_verifier(utilisateur, action)
    except TransitionInterdite as exc:
        libelle = workflow.transition(action).libelle
        raise PermissionDenied(f"L'action « {libelle} » n'est pas ouverte à votre rôle.") from exc


def traiter_action(request, reference: str, action: str, *, route: str, page):
    """POST of an action form: parse it, call the action's service, then redirect to `route` (POST/redirect/GET);
    a refused action shows `page(request, reference, lie=..., erreur=...)` again with the errors. The shared page
    and the évaluateur's review page both go through here, hence through the same services."""
    demande = get_object_or_404(selectors.demandes_visibles_par(request.user), reference=reference)
    if action not in FORMULAIRES:
        raise Http404
    refuser_si_role_exclu(request.user, action)
    form = FORMULAIRES[action](request.POST, request.FILES, prefix=action)
    erreur = None
    if form.is_valid():
        try:
            message, cible = _executer(action, demande, request.user, form.cleaned_data)
        except DemandeError as exc:
            erreur = exc
            erreurs_sur_formulaire(form, exc)
        else:
            messages.success(request, message)
            if action == "renouveler":
                from .depot import PREMIERE_ETAPE_RENOUVELLEMENT

                return redirect("demandes:etape", cible.reference, PREMIERE_ETAPE_RENOUVELLEMENT)
            return redirect(route, cible.reference)
    return page(request, reference, lie={action: form}, erreur=erreur, statut=erreur.statut_http if erreur else 400)


def _page_detail(request, reference, *, lie=None, erreur=None, statut=200):
    demande = selectors.demande_detail(request.user, reference)
    services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PAGE)
    contexte = contexte_detail(request, demande, lie=lie, erreur=erreur)
    return render(request, "demandes/detail.html", contexte, status=statut)


@require_POST
@login_required
def action(request, reference, action):
    return traiter_action(request, reference, action, route="demandes:detail", page=_page_detail)


# --- Files ---------------------------------------------------------------------------------------------------------


@require_GET
@login_required
def decision_pdf(request, reference):
    """R17: the decision, downloadable by the prescriber, the PUI and ANSM staff only (404 for anyone else)."""
    demande = get_object_or_404(
        selectors.demandes_visibles_par(request.user).select_related("decision"), reference=reference
    )
    decision = selectors.decision_de(demande)
    if decision is None:
        raise Http404
    services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PDF)
    return FileResponse(
        selectors.decision_pdf_ouvrir(decision),
        as_attachment=True,
        filename=f"{decision.numero_aac or decision.reference}.pdf",
        content_type="application/pdf",
    )


@require_POST
@login_required
def piece_joindre(request, reference):
    demande = get_object_or_404(selectors.demandes_visibles_par(request.user), reference=reference)
    refuser_si_role_exclu(request.user, "joindre_piece")
    form = forms.PieceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.piece_joindre(demande=demande, par=request.user, fichier=form.cleaned_data["fichier"])
        except DemandeError as exc:
            messages.error(request, exc.texte)
        else:
            messages.success(request, "La pièce jointe est ajoutée.")
    else:
        messages.error(request, " ".join(e for erreurs in form.errors.values() for e in erreurs))
    return redirect("demandes:detail", reference)


@require_GET
@login_required
def piece_telecharger(request, reference, pk):
    demande = get_object_or_404(selectors.demandes_visibles_par(request.user), reference=reference)
    piece = get_object_or_404(selectors.pieces_visibles(request.user), pk=pk, demande=demande)
    services.acces_donnees_enregistrer(demande=demande, utilisateur=request.user, canal=CanalAcces.PIECE)
    reponse = FileResponse(
        piece.fichier.open("rb"), as_attachment=True, filename=piece.nom, content_type=piece.type_mime
    )
    reponse["X-Content-Type-Options"] = "nosniff"
    return reponse
