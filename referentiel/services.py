"""Writes on the référentiel. Every change to a fiche goes through a service that records who did what.

Each service is atomic, locks the spécialité's row first (so that two évaluateurs editing one fiche serialise and
rules that read sibling rows, like R23's rare-disease delay, see a stable state), checks the rules and raises
`ReferentielError` with a French message and the rule number, writes, then bumps `Specialite.mis_a_jour_le`,
re-indexes the fiche for search and appends a `HistoriqueFiche` row with the values before and after.

`par` is the user acting; None means the system itself (BDPM import, demonstration data).
"""

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from comptes.enums import Role

from . import regles
from .documents import nom_de_fichier, verifier_fichier
from .enums import (
    TYPE_SUCCESSEUR,
    TYPES_HISTORIQUES,
    EtapeCPC,
    EtatAcces,
    OrigineSignalement,
    PhaseAAP,
    StatutAMM,
    StatutDeclarationTitulaire,
    StatutDemandeProlongation,
    StatutRapport,
    TypeAcces,
    TypeDocument,
    TypePUT,
)
from .exceptions import ReferentielError
from .models import (
    PUT,
    AccesDerogatoire,
    Composition,
    CritereOctroi,
    DeclarationChangementTitulaire,
    DemandeProlongation,
    Document,
    HistoriqueFiche,
    Indication,
    Laboratoire,
    ProlongationEngagementAAP,
    RapportPeriodique,
    RenouvellementCPC,
    Signalement,
    Specialite,
    Substance,
)
from .validators import valider_atc, valider_cis

# Search document of a spécialité: name and DCI weigh most, then indications, then laboratories (R3).
# The two expressions are written once here and used both by the batch indexer below and by the BDPM import, which
# computes the document of the spécialités it creates in the same INSERT (one write per row instead of two).


def sql_document_recherche(*, nom: str, dci: str, indications: str, laboratoires: str) -> str:
    """SQL expression of the weighted full-text document, from SQL expressions of its parts."""
    return (
        f"setweight(to_tsvector('french_unaccent', {nom}), 'A')"
        f" || setweight(to_tsvector('french_unaccent', coalesce({dci}, '')), 'A')"
        f" || setweight(to_tsvector('french_unaccent', coalesce({indications}, '')), 'B')"
        f" || setweight(to_tsvector('french_unaccent', {laboratoires}), 'C')"
    )


# DCI in alphabetical order, so that a document built by the import and one rebuilt here are identical.
_LABORATOIRES = "coalesce(tit.nom, '') || ' ' || coalesce(exp.nom, '')"
_DOCUMENT = sql_document_recherche(nom="sp.nom", dci="dci.texte", indications="ind.texte", laboratoires=_LABORATOIRES)
_SQL_INDEXER = f"""
WITH cibles AS (SELECT unnest(%(ids)s::bigint[]) AS id),
dci AS (
    SELECT c.specialite_id AS id, string_agg(s.dci, ' ' ORDER BY s.dci, c.dosage) AS texte
    FROM referentiel_composition c JOIN referentiel_substance s ON s.id = c.substance_id
    WHERE c.specialite_id IN (SELECT id FROM cibles) GROUP BY c.specialite_id
),
ind AS (
    SELECT a.specialite_id AS id,
           string_agg(i.libelle || ' ' || i.patients_eligibles, ' ' ORDER BY i.ordre, i.id) AS texte
    FROM referentiel_accesderogatoire a JOIN referentiel_indication i ON i.acces_id = a.id
    WHERE a.specialite_id IN (SELECT id FROM cibles) GROUP BY a.specialite_id
)
UPDATE referentiel_specialite sp SET document_recherche = {_DOCUMENT}
FROM referentiel_specialite base
LEFT JOIN dci ON dci.id = base.id
LEFT JOIN ind ON ind.id = base.id
LEFT JOIN referentiel_laboratoire tit ON tit.id = base.titulaire_id
LEFT JOIN referentiel_laboratoire exp ON exp.id = base.exploitant_id
WHERE sp.id = base.id AND base.id IN (SELECT id FROM cibles)
"""  # noqa: S608 - built from constant fragments; the ids are a parameter


def specialites_indexer(*, ids: Iterable[int]) -> None:
    """Recompute the full-text document of these spécialités (one statement per batch)."""
    ids = list(ids)
    for debut in range(0, len(ids), 5000):
        with connection.cursor() as cursor:
            cursor.execute(_SQL_INDEXER, {"ids": ids[debut : debut + 5000]})


# --- Shared machinery ------------------------------------------------------------------------------------------

ROLES_ANSM = frozenset({Role.EVALUATEUR, Role.ADMINISTRATEUR})

CHAMPS_SPECIALITE = (
    "nom",
    "cis",
    "forme_pharmaceutique",
    "voies_administration",
    "titulaire",
    "exploitant",
    "code_atc",
    "aire_therapeutique",
    "mitm",
    "statut_amm",
    "date_amm",
    "date_arret_commercialisation",
    "reserve_hospitalier",
    "restriction_prescripteurs",
    "retrocession",
    "publiee",
    "demonstration",
)
CHAMPS_ACCES = (
    "etat",
    "precedent",
    "date_debut",
    "date_fin",
    "date_prochain_renouvellement",
    "conditions_utilisation",
    "phase_aap",
    "date_decision_has",
    "date_cessation",
    "riph_commerciale",
    "engagement_aap",
    "date_premiere_aac",
    "origine_signalement",
    "etape_cpc",
    "date_entree_vigueur_prevue",
)
CHAMPS_INDICATION = ("libelle", "patients_eligibles", "maladie_rare", "restriction_aap", "ordre", "publiee_le")
CHAMPS_PUT = (
    "type_put",
    "recueil_nominatif",
    "periodicite_rapports_mois",
    "crpv",
    "version",
    "date_validation",
    "est_proposition",
)
CHAMPS_DOCUMENT = ("type_document", "titre", "date_document", "version", "public", "acces")

TYPES_AAC = frozenset({TypeAcces.AAC, TypeAcces.ATUN})
TYPES_AAP = frozenset({TypeAcces.AAP, TypeAcces.ATUC})
TYPES_CPC = frozenset({TypeAcces.CPC, TypeAcces.RTU})

# R35: a report moves forward only; the ANSM may send a report under evaluation back to "received".
TRANSITIONS_RAPPORT = {
    StatutRapport.ATTENDU: {StatutRapport.RECU},
    StatutRapport.RECU: {StatutRapport.EN_EVALUATION, StatutRapport.VALIDE},
    StatutRapport.EN_EVALUATION: {StatutRapport.VALIDE, StatutRapport.RECU},
    StatutRapport.VALIDE: set(),
}


def _json(valeur):
    """A value as it is written in the history's JSON (dates in ISO, related rows by their name)."""
    if isinstance(valeur, datetime.date | datetime.datetime):
        return valeur.isoformat()
    if isinstance(valeur, models.Model):
        return str(valeur)
    if isinstance(valeur, Decimal):
        return str(valeur)
    if isinstance(valeur, models.fields.files.FieldFile):
        return valeur.name or ""
    return valeur


def _instantane(objet: models.Model, champs: Iterable[str]) -> dict:
    return {champ: _json(getattr(objet, champ)) for champ in champs}


def _appliquer(objet: models.Model, champs: dict, autorises: Sequence[str]) -> tuple[dict, dict]:
    """Set the given fields on objet; return the (before, after) values of those that really changed."""
    inconnus = set(champs) - set(autorises)
    if inconnus:
        raise TypeError(f"Champs non modifiables par ce service : {', '.join(sorted(inconnus))}")
    avant, apres = {}, {}
    for nom, valeur in champs.items():
        if isinstance(valeur, str):
            valeur = valeur.strip()
        ancien = getattr(objet, nom)
        if ancien != valeur:
            avant[nom], apres[nom] = _json(ancien), _json(valeur)
            setattr(objet, nom, valeur)
    return avant, apres


def _verifier_ansm(par) -> None:
    """Fiches are managed by the ANSM (évaluateurs) and administrators; None is the system itself."""
    if par is not None and par.role not in ROLES_ANSM:
        raise ReferentielError(
            "Seuls les évaluateurs de l'ANSM et les administrateurs peuvent modifier une fiche du référentiel."
        )


def _verifier_ansm_ou_laboratoire(par, specialite: Specialite) -> None:
    """The ANSM, or the laboratory titulaire / exploitant of this spécialité (R32, R34)."""
    if par is None or par.role in ROLES_ANSM:
        return
    if par.role == Role.LABORATOIRE and par.laboratoire_id in {specialite.titulaire_id, specialite.exploitant_id}:
        return
    raise ReferentielError(
        "Seuls l'ANSM et le laboratoire titulaire ou exploitant de cette spécialité peuvent faire cette opération."
    )


def _verrouiller(specialite_id: int) -> Specialite:
    return Specialite.objects.select_for_update().get(pk=specialite_id)


def _message_contrainte(objet: models.Model, exc: IntegrityError) -> str:
    nom = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    for contrainte in objet._meta.constraints:
        if contrainte.name == nom and contrainte.violation_error_message:
            return str(contrainte.violation_error_message)
    if nom and (nom.endswith("_key") or "uniq" in nom):
        return "Une fiche porte déjà cette valeur (code CIS ou adresse de la fiche) : elle doit être unique."
    return "L'enregistrement contredit une règle du référentiel."


def _enregistrer(objet: models.Model) -> None:
    """Save under a savepoint and turn a violated database constraint into its French message."""
    try:
        with transaction.atomic():
            objet.save()
    except IntegrityError as exc:
        raise ReferentielError(_message_contrainte(objet, exc)) from exc


def _fiche_modifiee(
    *, specialite: Specialite, par, action: str, objet: str = "", avant: dict | None = None, apres: dict | None = None
) -> HistoriqueFiche:
    """The common tail of every service: 'mis à jour le', search document, history row."""
    maintenant = timezone.now()
    Specialite.objects.filter(pk=specialite.pk).update(mis_a_jour_le=maintenant)
    specialite.mis_a_jour_le = maintenant
    specialites_indexer(ids=[specialite.pk])
    return HistoriqueFiche.objects.create(
        specialite=specialite,
        auteur=par,
        le=maintenant,
        action=action,
        objet=objet[:200],
        avant=avant or {},
        apres=apres or {},
    )


def _oublier_demonstration_si(specialite: Specialite, avant: dict | None = None) -> None:
    if specialite.demonstration or (avant and "demonstration" in avant):
        from .selectors import demonstration_oublier

        transaction.on_commit(demonstration_oublier)


def _texte_obligatoire(valeur: str, message: str, champ: str) -> str:
    valeur = (valeur or "").strip()
    if not valeur:
        raise ReferentielError(message, champ=champ)
    return valeur


# --- Spécialités -----------------------------------------------------------------------------------------------


def _slug_libre(nom: str, cis: str | None, exclure_pk: int | None = None) -> str:
    """A unique address for the fiche: the name, then the CIS code when there is one (as the BDPM import does)."""
    base = slugify(nom)[:100].strip("-") or "specialite"
    if cis:
        base = f"{base}-{cis}"
    candidat, numero = base, 1
    existants = Specialite.objects.exclude(pk=exclure_pk) if exclure_pk else Specialite.objects.all()
    while existants.filter(slug=candidat).exists():
        numero += 1
        candidat = f"{base[:110]}-{numero}"
    return candidat


def _valider_specialite(specialite: Specialite) -> None:
    if not specialite.nom:
        raise ReferentielError("Indiquez la dénomination de la spécialité.", champ="nom")
    if specialite.cis:
        try:
            valider_cis(specialite.cis)
        except ValidationError as exc:
            raise ReferentielError(exc.messages[0], champ="cis") from exc
        if Specialite.objects.filter(cis=specialite.cis).exclude(pk=specialite.pk).exists():
            raise ReferentielError(
                f"Une autre spécialité porte déjà le code CIS {specialite.cis}.",
                champ="cis",
            )
    else:
        specialite.cis = None
    if specialite.code_atc:
        specialite.code_atc = specialite.code_atc.upper()
        try:
            valider_atc(specialite.code_atc)
        except ValidationError as exc:
            raise ReferentielError(exc.messages[0], champ="code_atc") from exc
    if specialite.statut_amm == StatutAMM.AUCUNE and specialite.date_amm:
        raise ReferentielError(
            "Une spécialité sans AMM en France n'a pas de date d'AMM : choisissez le statut de l'AMM.",
            champ="statut_amm",
        )
    if specialite.statut_amm != StatutAMM.AUCUNE and not specialite.date_amm:
        raise ReferentielError("Indiquez la date de l'AMM en France.", champ="date_amm")
    if specialite.date_arret_commercialisation and specialite.statut_amm != StatutAMM.ARRETEE:
        raise ReferentielError(
            "Une date d'arrêt de commercialisation suppose le statut « AMM, commercialisation arrêtée ».",
            champ="date_arret_commercialisation",
        )
    if specialite.reserve_hospitalier and specialite.retrocession:
        raise ReferentielError(
            "Un médicament réservé à l'usage hospitalier n'est pas dispensé aux patients ambulatoires : "
            "il ne peut pas être sur la liste de rétrocession.",
            regle="R28",
            champ="retrocession",
        )


def _marquer_laboratoires(specialite: Specialite) -> None:
    """R29: the roles a laboratory plays follow the fiches that name it."""
    if specialite.titulaire_id:
        Laboratoire.objects.filter(pk=specialite.titulaire_id, est_titulaire=False).update(est_titulaire=True)
    if specialite.exploitant_id:
        Laboratoire.objects.filter(pk=specialite.exploitant_id, est_exploitant=False).update(est_exploitant=True)


def specialite_valider(*, specialite: Specialite) -> None:
    """Check a spécialité's fields without saving (used by the back-office forms to show the message)."""
    _valider_specialite(specialite)


@transaction.atomic
def specialite_creer(*, nom: str, par=None, compositions: Sequence[dict] | None = None, **champs) -> Specialite:
    """Create a spécialité (fiche), optionally with its composition, and historise it."""
    _verifier_ansm(par)
    specialite = Specialite(nom=(nom or "").strip())
    _appliquer(specialite, champs, CHAMPS_SPECIALITE)
    _valider_specialite(specialite)
    specialite.slug = _slug_libre(specialite.nom, specialite.cis)
    specialite.cree_le = specialite.mis_a_jour_le = timezone.now()
    _enregistrer(specialite)
    _marquer_laboratoires(specialite)
    if compositions:
        _ecrire_composition(specialite, compositions)
    apres = _instantane(specialite, ("nom", *CHAMPS_SPECIALITE))
    if compositions:
        apres["composition"] = _composition_texte(specialite)
    _fiche_modifiee(specialite=specialite, par=par, action="Création de la fiche", objet=specialite.nom, apres=apres)
    _oublier_demonstration_si(specialite)
    return specialite


@transaction.atomic
def specialite_modifier(*, specialite: Specialite, par=None, **champs) -> Specialite:
    """Change a spécialité's fields; a call that changes nothing writes nothing."""
    _verifier_ansm(par)
    specialite = _verrouiller(specialite.pk)
    avant, apres = _appliquer(specialite, champs, CHAMPS_SPECIALITE)
    if not apres:
        return specialite
    _valider_specialite(specialite)
    _enregistrer(specialite)
    _marquer_laboratoires(specialite)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Modification de la spécialité",
        objet=specialite.nom,
        avant=avant,
        apres=apres,
    )
    _oublier_demonstration_si(specialite, avant)
    return specialite


def _substance(valeur) -> Substance:
    if isinstance(valeur, Substance):
        return valeur
    dci = _texte_obligatoire(str(valeur), "Indiquez la DCI de chaque substance.", "compositions")
    existante = Substance.objects.filter(dci__iexact=dci).order_by("pk").first()
    return existante or Substance.objects.create(dci=dci)


def _ecrire_composition(specialite: Specialite, compositions: Sequence[dict]) -> None:
    Composition.objects.filter(specialite=specialite).delete()
    vues = set()
    for ligne in compositions:
        substance = _substance(ligne["substance"])
        dosage = (ligne.get("dosage") or "").strip()
        if (substance.pk, dosage) in vues:
            raise ReferentielError(
                f"La substance {substance.dci} figure deux fois avec le dosage « {dosage} ».", champ="compositions"
            )
        vues.add((substance.pk, dosage))
        Composition.objects.create(
            specialite=specialite,
            substance=substance,
            dosage=dosage,
            reference_dosage=(ligne.get("reference_dosage") or "").strip(),
        )


def _composition_texte(specialite: Specialite) -> list[str]:
    return [
        f"{c.substance.dci} {c.dosage}".strip()
        for c in specialite.compositions.select_related("substance").order_by("substance__dci", "dosage")
    ]


@transaction.atomic
def specialite_definir_composition(*, specialite: Specialite, compositions: Sequence[dict], par=None) -> Specialite:
    """Replace the substances and dosages of a spécialité: [{"substance": Substance or DCI, "dosage": ...}]."""
    _verifier_ansm(par)
    specialite = _verrouiller(specialite.pk)
    avant = _composition_texte(specialite)
    _ecrire_composition(specialite, compositions)
    apres = _composition_texte(specialite)
    if avant != apres:
        _fiche_modifiee(
            specialite=specialite,
            par=par,
            action="Modification de la composition",
            objet=specialite.nom,
            avant={"composition": avant},
            apres={"composition": apres},
        )
    return specialite


# --- Accès dérogatoires ----------------------------------------------------------------------------------------


def _limite_depot_aap(acces: AccesDerogatoire) -> datetime.date | None:
    """R23: 12 months from the first AAC (18 for a rare disease), plus every extension granted."""
    if not acces.engagement_aap or not acces.date_premiere_aac:
        return None
    mois = regles.DELAI_DEPOT_AAP_MOIS
    if acces.pk:
        if acces.indications.filter(maladie_rare=True).exists():
            mois = regles.DELAI_DEPOT_AAP_MALADIE_RARE_MOIS
        mois += acces.prolongations.aggregate(total=Sum("duree_mois"))["total"] or 0
    return regles.ajouter_mois(acces.date_premiere_aac, mois)


def _valider_acces(acces: AccesDerogatoire, specialite: Specialite) -> None:
    type_acces = acces.type_acces
    if type_acces not in TypeAcces.values:
        raise ReferentielError("Choisissez le type d'accès : AAC, AAP, CPC, ou ATU / RTU historique.")
    if acces.etat not in EtatAcces.values:
        raise ReferentielError("Choisissez l'état de l'accès : en cours, suspendu ou terminé.", champ="etat")
    if acces.date_debut and acces.date_fin and acces.date_fin < acces.date_debut:
        raise ReferentielError("La date de fin doit suivre la date de début.", champ="date_fin")
    if type_acces in TYPES_HISTORIQUES and acces.date_debut and acces.date_debut >= regles.FIN_DES_ATU_RTU:
        successeur = TYPE_SUCCESSEUR[TypeAcces(type_acces)]
        raise ReferentielError(
            f"Les ATU et RTU n'existent plus depuis le 1er juillet 2021 : créez un statut {successeur.label}.",
            champ="type_acces",
        )
    if acces.precedent_id:
        precedent = acces.precedent
        if precedent.specialite_id != specialite.pk:
            raise ReferentielError("Le statut précédent doit concerner la même spécialité.", champ="precedent")
        if acces.pk and precedent.pk == acces.pk:
            raise ReferentielError("Un statut ne peut pas se succéder à lui-même.", champ="precedent")
        attendu = TYPE_SUCCESSEUR.get(precedent.type_acces)
        if attendu and attendu != type_acces and precedent.type_acces != type_acces:
            raise ReferentielError(
                f"Un statut {precedent.get_type_acces_display()} a pour successeur un {attendu.label}.",
                champ="precedent",
            )

    # AAP (R37, R47)
    if type_acces in TYPES_AAP:
        if type_acces == TypeAcces.AAP and not acces.phase_aap:
            raise ReferentielError(
                "Précisez si l'accès précoce est accordé avant (pré-AMM) ou après l'AMM (post-AMM).",
                regle="R37",
                champ="phase_aap",
            )
        if acces.phase_aap == PhaseAAP.POST_AMM and specialite.statut_amm == StatutAMM.AUCUNE:
            raise ReferentielError(
                "Un accès précoce post-AMM suppose une AMM : enregistrez d'abord l'AMM de la spécialité.",
                regle="R37",
                champ="phase_aap",
            )
    else:
        if acces.phase_aap:
            raise ReferentielError("Seul un accès précoce a une phase pré- ou post-AMM.", champ="phase_aap")
        if acces.date_decision_has:
            raise ReferentielError(
                "Seul un accès précoce a une date de décision de la HAS.", regle="R37", champ="date_decision_has"
            )

    # AAC (R7, R16, R23, R24)
    if type_acces in TYPES_AAC:
        if acces.date_cessation:
            if type_acces != TypeAcces.AAC:
                raise ReferentielError("Seul un AAC a une date de cessation.", regle="R24", champ="date_cessation")
            if specialite.statut_amm == StatutAMM.AUCUNE or not specialite.date_amm:
                raise ReferentielError(
                    "La date de cessation des AAC suit l'AMM : enregistrez d'abord l'AMM de la spécialité.",
                    regle="R24",
                    champ="date_cessation",
                )
            limite = regles.ajouter_mois(specialite.date_amm, regles.DELAI_CESSATION_AAC_MOIS)
            if not specialite.date_amm <= acces.date_cessation <= limite:
                raise ReferentielError(
                    f"La date de cessation des AAC doit tomber entre l'AMM du {specialite.date_amm:%d/%m/%Y} et "
                    f"3 mois après, soit le {limite:%d/%m/%Y} au plus tard.",
                    regle="R24",
                    champ="date_cessation",
                )
        if (
            type_acces == TypeAcces.AAC
            and acces.etat == EtatAcces.EN_COURS
            and specialite.statut_amm == StatutAMM.AUTORISEE
            and not acces.date_cessation
        ):
            raise ReferentielError(
                "Un médicament qui a une AMM en France n'obtient pas d'AAC : après l'AMM, fixez la date de "
                "cessation des AAC (au plus 3 mois).",
                regle="R5",
                champ="date_cessation",
            )
        if acces.riph_commerciale and not acces.engagement_aap and acces.etat == EtatAcces.EN_COURS:
            raise ReferentielError(
                "Un médicament en recherche à des fins commerciales n'obtient d'AAC que si le laboratoire s'engage "
                "à déposer une demande d'AAP.",
                regle="R7",
                champ="engagement_aap",
            )
        if acces.engagement_aap and not acces.date_premiere_aac:
            acces.date_premiere_aac = acces.date_debut
            if not acces.date_premiere_aac:
                raise ReferentielError(
                    "Indiquez la date de la première AAC : le délai de dépôt de l'AAP court à partir d'elle.",
                    regle="R23",
                    champ="date_premiere_aac",
                )
    else:
        for champ, libelle in (
            ("date_cessation", "une date de cessation"),
            ("riph_commerciale", "une RIPH commerciale"),
            ("engagement_aap", "un engagement de dépôt d'AAP"),
            ("date_premiere_aac", "une date de première AAC"),
        ):
            if getattr(acces, champ):
                raise ReferentielError(f"Seul un AAC a {libelle}.", champ=champ)

    # CPC (R38-R40) and the historical RTU (R42): off-label use of a medicine with an AMM, 3 years, renewable.
    if type_acces in TYPES_CPC:
        regle = "R38" if type_acces == TypeAcces.CPC else "R42"
        if specialite.statut_amm == StatutAMM.AUCUNE:
            raise ReferentielError(
                f"Un {type_acces} encadre la prescription hors AMM d'un médicament qui a une AMM en France : "
                "enregistrez d'abord l'AMM de la spécialité.",
                regle=regle,
                champ="type_acces",
            )
        if acces.date_debut:
            limite = regles.ajouter_ans(acces.date_debut, regles.DUREE_CPC_ANS)
            if acces.date_fin is None:
                acces.date_fin = limite
            elif acces.date_fin > limite:
                raise ReferentielError(
                    f"Un {type_acces} dure 3 ans au plus (renouvelable) : la date de fin ne peut dépasser le "
                    f"{limite:%d/%m/%Y}.",
                    regle=regle,
                    champ="date_fin",
                )
    if type_acces != TypeAcces.CPC:
        for champ in ("origine_signalement", "etape_cpc", "date_entree_vigueur_prevue"):
            if getattr(acces, champ):
                raise ReferentielError(
                    "Seul un CPC a une origine de signalement, une étape et une date d'entrée en vigueur.",
                    regle="R39",
                    champ=champ,
                )

    if (
        acces.etat == EtatAcces.EN_COURS
        and AccesDerogatoire.objects.filter(specialite=specialite, type_acces=type_acces, etat=EtatAcces.EN_COURS)
        .exclude(pk=acces.pk)
        .exists()
    ):
        raise ReferentielError(
            f"Cette spécialité a déjà un statut {type_acces} en cours : terminez-le ou modifiez-le.",
            champ="type_acces",
        )
    acces.date_limite_depot_aap = _limite_depot_aap(acces)


def acces_valider(*, acces: AccesDerogatoire) -> None:
    """Check a derogatory status without saving (used by the back-office forms to show the message)."""
    _valider_acces(acces, acces.specialite)


def _restreindre_aac_pour_aap(specialite: Specialite, aap: AccesDerogatoire) -> list[str]:
    """R25: a pre-AMM AAP reserves the AAC of the same medicine to the patients it does not cover.

    The AAC indications get the restriction and one more criterion a prescriber attests, so a patient eligible to
    the AAP no longer meets every critère d'octroi and goes to the AAP at the next renewal.
    """
    date = aap.date_decision_has or aap.date_debut
    depuis = f" depuis le {date:%d/%m/%Y}" if date else ""
    restriction = (
        f"Accès précoce (AAP pré-AMM) en cours{depuis} : l'AAC est réservée aux patients non éligibles à l'AAP, "
        "les patients éligibles y basculent à leur prochain renouvellement."
    )
    critere = "Le patient n'est pas éligible à l'accès précoce (AAP) en cours pour ce médicament."
    restreintes = []
    indications = Indication.objects.filter(
        acces__specialite=specialite, acces__type_acces=TypeAcces.AAC, acces__etat=EtatAcces.EN_COURS
    ).prefetch_related("criteres")
    for indication in indications:
        if not indication.restriction_aap:
            indication.restriction_aap = restriction
            indication.save(update_fields=["restriction_aap"])
        if not any(c.libelle == critere for c in indication.criteres.all()):
            ordre = max((c.ordre for c in indication.criteres.all()), default=0) + 1
            CritereOctroi.objects.create(indication=indication, libelle=critere, ordre=ordre)
        restreintes.append(indication.libelle[:120])
    return restreintes


def _aap_pre_amm_en_cours(specialite: Specialite) -> AccesDerogatoire | None:
    return (
        AccesDerogatoire.objects.filter(
            specialite=specialite, type_acces=TypeAcces.AAP, phase_aap=PhaseAAP.PRE_AMM, etat=EtatAcces.EN_COURS
        )
        .order_by("-date_debut")
        .first()
    )


@transaction.atomic
def acces_creer(*, specialite: Specialite, type_acces: str, par=None, **champs) -> AccesDerogatoire:
    """Give a spécialité a derogatory status; a pre-AMM AAP narrows the AAC of the same medicine (R25)."""
    _verifier_ansm(par)
    specialite = _verrouiller(specialite.pk)
    maintenant = timezone.now()
    acces = AccesDerogatoire(
        specialite=specialite, type_acces=type_acces, cree_le=maintenant, mis_a_jour_le=maintenant
    )
    _appliquer(acces, champs, CHAMPS_ACCES)
    _valider_acces(acces, specialite)
    _enregistrer(acces)
    apres = {"type_acces": type_acces, **_instantane(acces, (*CHAMPS_ACCES, "date_limite_depot_aap"))}
    apres = {cle: valeur for cle, valeur in apres.items() if valeur not in (None, "", False)}
    if type_acces == TypeAcces.AAP and acces.phase_aap == PhaseAAP.PRE_AMM and acces.etat == EtatAcces.EN_COURS:
        restreintes = _restreindre_aac_pour_aap(specialite, acces)
        if restreintes:
            apres["indications_aac_restreintes"] = restreintes
    _fiche_modifiee(
        specialite=specialite, par=par, action=f"Ajout du statut {type_acces}", objet=str(acces), apres=apres
    )
    return acces


@transaction.atomic
def acces_modifier(*, acces: AccesDerogatoire, par=None, **champs) -> AccesDerogatoire:
    """Change a derogatory status (dates, state, AAP commitment...); R23's deadline is recomputed, never typed."""
    _verifier_ansm(par)
    specialite = _verrouiller(acces.specialite_id)
    acces = AccesDerogatoire.objects.get(pk=acces.pk)
    if acces.etat == EtatAcces.TERMINE and champs.get("etat") in (EtatAcces.EN_COURS, EtatAcces.SUSPENDU):
        raise ReferentielError(
            "Un statut terminé ne reprend pas : créez un nouveau statut qui lui succède.", champ="etat"
        )
    limite_avant = acces.date_limite_depot_aap
    avant, apres = _appliquer(acces, champs, CHAMPS_ACCES)
    _valider_acces(acces, specialite)
    if acces.date_limite_depot_aap != limite_avant:
        avant["date_limite_depot_aap"] = _json(limite_avant)
        apres["date_limite_depot_aap"] = _json(acces.date_limite_depot_aap)
    if not apres:
        return acces
    acces.mis_a_jour_le = timezone.now()
    _enregistrer(acces)
    if (
        acces.type_acces == TypeAcces.AAP
        and acces.phase_aap == PhaseAAP.PRE_AMM
        and acces.etat == EtatAcces.EN_COURS
        and ("etat" in apres or "phase_aap" in apres)
    ):
        restreintes = _restreindre_aac_pour_aap(specialite, acces)
        if restreintes:
            apres["indications_aac_restreintes"] = restreintes
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action=f"Modification du statut {acces.type_acces}",
        objet=str(acces),
        avant=avant,
        apres=apres,
    )
    return acces


def acces_changer_etat(
    *, acces: AccesDerogatoire, etat: str, par=None, date_fin: datetime.date | None = None
) -> AccesDerogatoire:
    """Suspend, resume or end a status; ending it without a date ends it today."""
    champs = {"etat": etat}
    if etat == EtatAcces.TERMINE:
        champs["date_fin"] = date_fin or acces.date_fin or timezone.localdate()
    elif date_fin:
        champs["date_fin"] = date_fin
    return acces_modifier(acces=acces, par=par, **champs)


@transaction.atomic
def acces_enregistrer_amm(
    *, acces: AccesDerogatoire, date_amm: datetime.date, par=None, date_cessation: datetime.date | None = None
) -> AccesDerogatoire:
    """R24: the medicine in AAC got an AMM; AAC stop on date_cessation, 3 months after the AMM at the latest."""
    _verifier_ansm(par)
    specialite = _verrouiller(acces.specialite_id)
    acces = AccesDerogatoire.objects.get(pk=acces.pk)
    if acces.type_acces != TypeAcces.AAC:
        raise ReferentielError("Seul un AAC prend fin après une AMM à une date de cessation.", regle="R24")
    avant = {
        "statut_amm": specialite.statut_amm,
        "date_amm": _json(specialite.date_amm),
        "date_cessation": _json(acces.date_cessation),
    }
    specialite.statut_amm, specialite.date_amm = StatutAMM.AUTORISEE, date_amm
    specialite.date_arret_commercialisation = None
    acces.date_cessation = date_cessation or regles.ajouter_mois(date_amm, regles.DELAI_CESSATION_AAC_MOIS)
    _valider_specialite(specialite)
    _valider_acces(acces, specialite)
    _enregistrer(specialite)
    acces.mis_a_jour_le = timezone.now()
    _enregistrer(acces)
    apres = {
        "statut_amm": specialite.statut_amm,
        "date_amm": _json(date_amm),
        "date_cessation": _json(acces.date_cessation),
    }
    _fiche_modifiee(
        specialite=specialite, par=par, action="Enregistrement de l'AMM", objet=str(acces), avant=avant, apres=apres
    )
    return acces


@transaction.atomic
def acces_prolonger_delai_aap(
    *, acces: AccesDerogatoire, duree_mois: int, motif: str, par=None
) -> ProlongationEngagementAAP:
    """R23: extend the laboratory's AAP filing deadline by at most 6 months, on its motivated request."""
    _verifier_ansm(par)
    specialite = _verrouiller(acces.specialite_id)
    acces = AccesDerogatoire.objects.get(pk=acces.pk)
    if not acces.engagement_aap or not acces.date_premiere_aac:
        raise ReferentielError(
            "Seul un AAC dont le laboratoire s'est engagé à déposer une AAP a un délai à prolonger.", regle="R23"
        )
    if not 1 <= int(duree_mois) <= regles.PROLONGATION_AAP_MAX_MOIS:
        raise ReferentielError(
            "Une prolongation du délai de dépôt de l'AAP dure de 1 à 6 mois au plus.", regle="R23", champ="duree_mois"
        )
    motif = _texte_obligatoire(
        motif, "La prolongation est accordée sur demande motivée du laboratoire : indiquez le motif.", "motif"
    )
    limite_avant = acces.date_limite_depot_aap
    prolongation = ProlongationEngagementAAP.objects.create(
        acces=acces, duree_mois=duree_mois, motif=motif, accordee_par=par
    )
    acces.date_limite_depot_aap = _limite_depot_aap(acces)
    acces.mis_a_jour_le = timezone.now()
    acces.save(update_fields=["date_limite_depot_aap", "mis_a_jour_le"])
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Prolongation du délai de dépôt de l'AAP",
        objet=str(acces),
        avant={"date_limite_depot_aap": _json(limite_avant)},
        apres={"date_limite_depot_aap": _json(acces.date_limite_depot_aap), "duree_mois": duree_mois, "motif": motif},
    )
    return prolongation


def _recalculer_limite_aap(acces: AccesDerogatoire) -> tuple[dict, dict]:
    avant = acces.date_limite_depot_aap
    acces.date_limite_depot_aap = _limite_depot_aap(acces)
    if acces.date_limite_depot_aap == avant:
        return {}, {}
    acces.save(update_fields=["date_limite_depot_aap"])
    return {"date_limite_depot_aap": _json(avant)}, {"date_limite_depot_aap": _json(acces.date_limite_depot_aap)}


# --- Indications and critères d'octroi ---------------------------------------------------------------------------


def _criteres_propres(criteres: Iterable[str]) -> list[str]:
    propres, vus = [], set()
    for critere in criteres:
        texte = (critere or "").strip()
        if not texte:
            continue
        if len(texte) > 500:
            raise ReferentielError(
                "Un critère d'octroi est une phrase courte que le prescripteur peut attester "
                "(500 caractères au plus).",
                regle="R11",
                champ="criteres",
            )
        if texte.casefold() in vus:
            raise ReferentielError(f"Le critère « {texte} » figure deux fois.", champ="criteres")
        vus.add(texte.casefold())
        propres.append(texte)
    return propres


def _ecrire_criteres(indication: Indication, criteres: list[str]) -> None:
    indication.criteres.all().delete()
    CritereOctroi.objects.bulk_create(
        CritereOctroi(indication=indication, libelle=texte, ordre=ordre) for ordre, texte in enumerate(criteres, 1)
    )


def _valider_indication(indication: Indication) -> None:
    indication.libelle = _texte_obligatoire(indication.libelle, "Indiquez le libellé de l'indication.", "libelle")


@transaction.atomic
def indication_creer(
    *,
    acces: AccesDerogatoire,
    libelle: str,
    par=None,
    criteres: Iterable[str] = (),
    **champs,
) -> Indication:
    """Reference an indication and its critères d'octroi on a status (R11, R45); rare disease moves R23's delay."""
    _verifier_ansm(par)
    specialite = _verrouiller(acces.specialite_id)
    acces = AccesDerogatoire.objects.get(pk=acces.pk)
    criteres = _criteres_propres(criteres)
    indication = Indication(acces=acces, libelle=libelle)
    _appliquer(indication, champs, CHAMPS_INDICATION)
    _valider_indication(indication)
    if "ordre" not in champs:
        indication.ordre = (acces.indications.aggregate(m=models.Max("ordre"))["m"] or 0) + 1
    if "publiee_le" not in champs and acces.type_acces == TypeAcces.AAC:
        indication.publiee_le = timezone.localdate()
    _enregistrer(indication)
    _ecrire_criteres(indication, criteres)
    avant, apres = _recalculer_limite_aap(acces)
    apres.update(_instantane(indication, ("libelle", "patients_eligibles", "maladie_rare", "restriction_aap")))
    apres["criteres"] = criteres
    if acces.type_acces == TypeAcces.AAC and acces.etat == EtatAcces.EN_COURS:
        aap = _aap_pre_amm_en_cours(specialite)
        if aap is not None:
            _restreindre_aac_pour_aap(specialite, aap)
            indication.refresh_from_db()
            apres["restriction_aap"] = indication.restriction_aap
            apres["criteres"] = list(indication.criteres.values_list("libelle", flat=True))
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Ajout d'une indication",
        objet=indication.libelle,
        avant=avant,
        apres=apres,
    )
    return indication


@transaction.atomic
def indication_modifier(
    *, indication: Indication, par=None, criteres: Iterable[str] | None = None, **champs
) -> Indication:
    """Change an indication; `criteres` (when given) replaces the whole list of critères d'octroi, in order."""
    _verifier_ansm(par)
    specialite = _verrouiller(indication.acces.specialite_id)
    indication = Indication.objects.select_related("acces").get(pk=indication.pk)
    avant, apres = _appliquer(indication, champs, CHAMPS_INDICATION)
    _valider_indication(indication)
    if criteres is not None:
        criteres = _criteres_propres(criteres)
        anciens = list(indication.criteres.values_list("libelle", flat=True))
        if anciens != criteres:
            avant["criteres"], apres["criteres"] = anciens, criteres
    if not apres:
        return indication
    _enregistrer(indication)
    if criteres is not None and "criteres" in apres:
        _ecrire_criteres(indication, criteres)
    if "maladie_rare" in apres:
        limite_avant, limite_apres = _recalculer_limite_aap(indication.acces)
        avant.update(limite_avant)
        apres.update(limite_apres)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Modification d'une indication",
        objet=indication.libelle,
        avant=avant,
        apres=apres,
    )
    return indication


@transaction.atomic
def indication_supprimer(*, indication: Indication, par=None) -> None:
    """Withdraw an indication and its criteria from the fiche (kept in the history)."""
    _verifier_ansm(par)
    specialite = _verrouiller(indication.acces.specialite_id)
    indication = Indication.objects.select_related("acces").get(pk=indication.pk)
    acces = indication.acces
    avant = _instantane(indication, ("libelle", "patients_eligibles", "maladie_rare"))
    avant["criteres"] = list(indication.criteres.values_list("libelle", flat=True))
    try:
        indication.delete()
    except models.ProtectedError as exc:
        # AAC requests (and their attestations of its criteria) refer to it: they must keep what was attested.
        # The collector raises before deleting anything.
        raise ReferentielError(
            "Cette indication ne peut pas être retirée : des demandes d'AAC s'y réfèrent et leurs attestations "
            "portent sur ses critères d'octroi. Modifiez-la, ou terminez l'accès dérogatoire.",
            "R11",
        ) from exc
    limite_avant, limite_apres = _recalculer_limite_aap(acces)
    avant.update(limite_avant)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Retrait d'une indication",
        objet=avant["libelle"],
        avant=avant,
        apres=limite_apres,
    )


# --- PUT -----------------------------------------------------------------------------------------------------------


def _valider_put(put: PUT, acces: AccesDerogatoire, par) -> None:
    attendu = TypePUT.PUT_RD if acces.type_acces in TYPES_AAP else TypePUT.PUT_SP
    if put.type_put != attendu:
        raise ReferentielError(
            "Un accès précoce (AAP) suit un PUT-RD (recueil de données) ; un AAC ou un CPC suit un PUT-SP "
            f"(suivi des patients) : choisissez un {attendu}.",
            regle="R37" if attendu == TypePUT.PUT_RD else "R31",
            champ="type_put",
        )
    periodicite = put.periodicite_rapports_mois
    if periodicite is not None and not 1 <= periodicite <= regles.PERIODICITE_RAPPORTS_MAX_MOIS:
        raise ReferentielError(
            "La périodicité des rapports de synthèse se compte en mois, de 1 à 60.",
            regle="R34",
            champ="periodicite_rapports_mois",
        )
    if put.recueil_nominatif and periodicite is None:
        raise ReferentielError(
            "Un PUT avec recueil de données fixe la périodicité des rapports de synthèse du laboratoire.",
            regle="R34",
            champ="periodicite_rapports_mois",
        )
    if put.type_put == TypePUT.PUT_SP and put.date_validation and not put.crpv:
        raise ReferentielError("Un PUT-SP validé désigne le CRPV en charge du suivi.", regle="R33", champ="crpv")
    put.version = _texte_obligatoire(put.version, "Indiquez la version du PUT.", "version")
    if PUT.objects.filter(acces=acces, version=put.version).exclude(pk=put.pk).exists():
        raise ReferentielError(f"La version {put.version} de ce PUT existe déjà.", champ="version")
    if par is not None and par.role == Role.LABORATOIRE:
        # R32: the laboratory proposes, the ANSM validates.
        put.est_proposition = True
        if put.date_validation:
            raise ReferentielError(
                "Le laboratoire propose un PUT ; seule l'ANSM le valide.", regle="R32", champ="date_validation"
            )


def put_valider(*, put: PUT, par=None) -> None:
    """Check a PUT without saving (used by the back-office forms to show the message)."""
    _valider_put(put, put.acces, par)


@transaction.atomic
def put_creer(*, acces: AccesDerogatoire, type_put: str, par=None, **champs) -> PUT:
    """Add a PUT version (a laboratory's proposal, or the ANSM's validated protocol) to a status."""
    specialite = _verrouiller(acces.specialite_id)
    _verifier_ansm_ou_laboratoire(par, specialite)
    acces = AccesDerogatoire.objects.get(pk=acces.pk)
    put = PUT(acces=acces, type_put=type_put)
    _appliquer(put, champs, CHAMPS_PUT)
    _valider_put(put, acces, par)
    _enregistrer(put)
    action = "Proposition de PUT par le laboratoire" if put.est_proposition else f"Ajout du {put.type_put}"
    _fiche_modifiee(specialite=specialite, par=par, action=action, objet=str(put), apres=_instantane(put, CHAMPS_PUT))
    return put


@transaction.atomic
def put_modifier(*, put: PUT, par=None, **champs) -> PUT:
    """Change or validate a PUT version (ANSM only)."""
    _verifier_ansm(par)
    specialite = _verrouiller(put.acces.specialite_id)
    put = PUT.objects.select_related("acces").get(pk=put.pk)
    avant, apres = _appliquer(put, champs, CHAMPS_PUT)
    if not apres:
        return put
    _valider_put(put, put.acces, par)
    _enregistrer(put)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action=f"Modification du {put.type_put}",
        objet=str(put),
        avant=avant,
        apres=apres,
    )
    return put


# --- Documents -----------------------------------------------------------------------------------------------------


@transaction.atomic
def document_ajouter(
    *,
    specialite: Specialite,
    type_document: str,
    titre: str,
    fichier,
    par=None,
    acces: AccesDerogatoire | None = None,
    **champs,
) -> Document:
    """Publish a file on a fiche after checking its content and size; it is stored outside the web root."""
    _verifier_ansm(par)
    specialite = _verrouiller(specialite.pk)
    if type_document not in TypeDocument.values:
        raise ReferentielError("Choisissez le type du document.", champ="type_document")
    titre = _texte_obligatoire(titre, "Indiquez le titre du document.", "titre")
    if acces is not None and acces.specialite_id != specialite.pk:
        raise ReferentielError("Le document doit concerner un statut de la même spécialité.", champ="acces")
    if not isinstance(fichier, File):
        fichier = File(fichier, name=getattr(fichier, "name", None) or titre)
    verifie = verifier_fichier(fichier)
    document = Document(
        specialite=specialite,
        acces=acces,
        type_document=type_document,
        titre=titre,
        type_mime=verifie.type_mime,
        taille=verifie.taille,
    )
    _appliquer(document, champs, ("date_document", "version", "public"))
    fichier.seek(0)
    document.fichier.save(nom_de_fichier(titre, verifie), fichier, save=False)
    nom_stocke = document.fichier.name
    # A rolled-back transaction must not leave an orphan file behind; a committed one keeps it.
    try:
        _enregistrer(document)
        _fiche_modifiee(
            specialite=specialite,
            par=par,
            action="Ajout d'un document",
            objet=titre,
            apres={
                **_instantane(document, ("type_document", "titre", "date_document", "version", "public")),
                "fichier": nom_stocke,
                "taille": verifie.taille,
                "type_mime": verifie.type_mime,
            },
        )
    except BaseException:
        default_storage.delete(nom_stocke)
        raise
    return document


@transaction.atomic
def document_modifier(*, document: Document, par=None, **champs) -> Document:
    """Change a document's title, kind, date, version or visibility (the file itself is replaced by a new one)."""
    _verifier_ansm(par)
    specialite = _verrouiller(document.specialite_id)
    document = Document.objects.get(pk=document.pk)
    avant, apres = _appliquer(document, champs, CHAMPS_DOCUMENT)
    if not apres:
        return document
    if document.type_document not in TypeDocument.values:
        raise ReferentielError("Choisissez le type du document.", champ="type_document")
    document.titre = _texte_obligatoire(document.titre, "Indiquez le titre du document.", "titre")
    if document.acces_id and document.acces.specialite_id != specialite.pk:
        raise ReferentielError("Le document doit concerner un statut de la même spécialité.", champ="acces")
    _enregistrer(document)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Modification d'un document",
        objet=document.titre,
        avant=avant,
        apres=apres,
    )
    return document


@transaction.atomic
def document_supprimer(*, document: Document, par=None) -> None:
    """Withdraw a document; its file is deleted once the withdrawal is committed."""
    _verifier_ansm(par)
    specialite = _verrouiller(document.specialite_id)
    document = Document.objects.get(pk=document.pk)
    nom_stocke = document.fichier.name
    avant = _instantane(document, ("type_document", "titre", "date_document", "version"))
    avant["fichier"] = nom_stocke
    document.delete()
    transaction.on_commit(lambda: default_storage.delete(nom_stocke))
    _fiche_modifiee(specialite=specialite, par=par, action="Retrait d'un document", objet=avant["titre"], avant=avant)


# --- Periodic synthesis reports (R34, R35) ---------------------------------------------------------------------


@transaction.atomic
def rapport_creer(
    *,
    acces: AccesDerogatoire,
    periode_debut: datetime.date,
    periode_fin: datetime.date,
    date_echeance: datetime.date,
    par=None,
) -> RapportPeriodique:
    """Expect a periodic synthesis report from the laboratory for a period, due on a date (R34)."""
    _verifier_ansm(par)
    specialite = _verrouiller(acces.specialite_id)
    if periode_fin < periode_debut:
        raise ReferentielError("La fin de la période doit suivre son début.", champ="periode_fin")
    if date_echeance < periode_fin:
        raise ReferentielError(
            "Le rapport porte sur une période écoulée : son échéance suit la fin de la période.",
            regle="R34",
            champ="date_echeance",
        )
    rapport = RapportPeriodique(
        acces=acces, periode_debut=periode_debut, periode_fin=periode_fin, date_echeance=date_echeance
    )
    _enregistrer(rapport)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Rapport de synthèse attendu",
        objet=str(rapport),
        apres=_instantane(rapport, ("periode_debut", "periode_fin", "date_echeance", "statut")),
    )
    return rapport


def _transition_rapport(rapport: RapportPeriodique, vers: str) -> None:
    if vers not in TRANSITIONS_RAPPORT[rapport.statut]:
        raise ReferentielError(
            f"Un rapport « {rapport.get_statut_display()} » ne peut pas passer à « {StatutRapport(vers).label} ».",
            regle="R35",
        )


@transaction.atomic
def rapport_recevoir(
    *, rapport: RapportPeriodique, par=None, date_reception: datetime.date | None = None
) -> RapportPeriodique:
    """The laboratory submitted its report (R34): the laboratory itself or the ANSM records it."""
    rapport = RapportPeriodique.objects.select_related("acces").get(pk=rapport.pk)
    specialite = _verrouiller(rapport.acces.specialite_id)
    _verifier_ansm_ou_laboratoire(par, specialite)
    rapport = RapportPeriodique.objects.select_for_update().get(pk=rapport.pk)
    _transition_rapport(rapport, StatutRapport.RECU)
    avant = {"statut": rapport.statut}
    rapport.statut = StatutRapport.RECU
    rapport.date_reception = date_reception or timezone.localdate()
    rapport.save(update_fields=["statut", "date_reception"])
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Rapport de synthèse reçu",
        objet=str(rapport),
        avant=avant,
        apres={"statut": rapport.statut, "date_reception": _json(rapport.date_reception)},
    )
    return rapport


@transaction.atomic
def rapport_evaluer(*, rapport: RapportPeriodique, par=None) -> RapportPeriodique:
    """The ANSM (with the CRPV) starts evaluating a received report (R35)."""
    _verifier_ansm(par)
    rapport = RapportPeriodique.objects.select_related("acces").get(pk=rapport.pk)
    specialite = _verrouiller(rapport.acces.specialite_id)
    rapport = RapportPeriodique.objects.select_for_update().get(pk=rapport.pk)
    _transition_rapport(rapport, StatutRapport.EN_EVALUATION)
    avant = {"statut": rapport.statut}
    rapport.statut = StatutRapport.EN_EVALUATION
    rapport.save(update_fields=["statut"])
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Rapport de synthèse en évaluation",
        objet=str(rapport),
        avant=avant,
        apres={"statut": rapport.statut},
    )
    return rapport


@transaction.atomic
def rapport_valider(
    *,
    rapport: RapportPeriodique,
    resume: str,
    par=None,
    date_validation: datetime.date | None = None,
    publier: bool = True,
) -> RapportPeriodique:
    """R35: the ANSM validates the report's résumé and (by default) publishes it on the fiche."""
    _verifier_ansm(par)
    rapport = RapportPeriodique.objects.select_related("acces").get(pk=rapport.pk)
    specialite = _verrouiller(rapport.acces.specialite_id)
    rapport = RapportPeriodique.objects.select_for_update().get(pk=rapport.pk)
    _transition_rapport(rapport, StatutRapport.VALIDE)
    resume = _texte_obligatoire(
        resume, "Le résumé validé du rapport est ce que l'ANSM publie : rédigez-le avant de valider.", "resume"
    )
    avant = {"statut": rapport.statut}
    rapport.statut = StatutRapport.VALIDE
    rapport.resume = resume
    rapport.date_validation = date_validation or timezone.localdate()
    if rapport.date_reception and rapport.date_validation < rapport.date_reception:
        raise ReferentielError("Un rapport est validé après sa réception.", champ="date_validation")
    if publier:
        rapport.resume_publie_le = rapport.date_validation
    _enregistrer(rapport)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Résumé de rapport validé",
        objet=str(rapport),
        avant=avant,
        apres=_instantane(rapport, ("statut", "date_validation", "resume", "resume_publie_le")),
    )
    return rapport


@transaction.atomic
def rapport_publier_resume(*, rapport: RapportPeriodique, par=None) -> RapportPeriodique:
    """R35: publish the validated résumé of a report on the fiche."""
    _verifier_ansm(par)
    rapport = RapportPeriodique.objects.select_related("acces").get(pk=rapport.pk)
    specialite = _verrouiller(rapport.acces.specialite_id)
    rapport = RapportPeriodique.objects.select_for_update().get(pk=rapport.pk)
    if rapport.statut != StatutRapport.VALIDE or not rapport.resume:
        raise ReferentielError("Seul le résumé validé d'un rapport est publié.", regle="R35")
    if rapport.resume_publie_le:
        return rapport
    rapport.resume_publie_le = timezone.localdate()
    rapport.save(update_fields=["resume_publie_le"])
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Publication d'un résumé de rapport",
        objet=str(rapport),
        apres={"resume_publie_le": _json(rapport.resume_publie_le)},
    )
    return rapport


# --- Back-office and laboratory space (issue 5) ------------------------------------------------------------------
# CPC life (R38-R40), signalements (R39), the laboratories' proposals, reports, extension requests and changes of
# rights holder (R23, R29, R32, R34). Each write locks the spécialité's row first, like every service above, reuses
# their validation (`_valider_acces`, `_valider_put`, the report transitions) and appends one history row.

# R40: a CPC is drafted, sent to the holder for comments with its planned date, then published; a published CPC is
# renewed for a new 3-year term or ends (R38).
TRANSITIONS_CPC = {
    EtapeCPC.BROUILLON: {EtapeCPC.TRANSMIS_TITULAIRE},
    EtapeCPC.TRANSMIS_TITULAIRE: {EtapeCPC.PUBLIE},
    EtapeCPC.PUBLIE: set(),
}


def _notifier_laboratoires(laboratoires, *, sujet: str, gabarit: str, contexte: dict) -> list[str]:
    """Queue one email per address of these laboratories (contact address and active laboratory accounts).

    The outbox row is written in the caller's transaction and sent after commit: a rolled-back transition tells
    nobody. Returns the addresses, for the history row.
    """
    from comptes.services import notification_creer

    from .selectors import laboratoires_destinataires

    destinataires = laboratoires_destinataires(laboratoires)
    corps = render_to_string(gabarit, contexte)
    for adresse in destinataires:
        notification_creer(destinataire=adresse, sujet=sujet, corps=corps)
    return destinataires


def _verrouiller_acces(acces: AccesDerogatoire) -> tuple[Specialite, AccesDerogatoire]:
    specialite = _verrouiller(acces.specialite_id)
    return specialite, AccesDerogatoire.objects.select_related("specialite").get(pk=acces.pk)


def _exiger_cpc(acces: AccesDerogatoire, vers: str | None = None) -> None:
    if acces.type_acces != TypeAcces.CPC:
        raise ReferentielError("Cette opération concerne un cadre de prescription compassionnelle (CPC).", "R38")
    if acces.etat == EtatAcces.TERMINE:
        raise ReferentielError("Ce CPC est terminé : encadrez à nouveau la prescription par un nouveau CPC.", "R38")
    if vers is not None:
        etape = acces.etape_cpc or EtapeCPC.BROUILLON
        if vers not in TRANSITIONS_CPC[EtapeCPC(etape)]:
            raise ReferentielError(
                f"Un CPC à l'étape « {EtapeCPC(etape).label} » ne peut pas passer à « {EtapeCPC(vers).label} ».",
                "R40",
            )


def _ecrire_acces(specialite: Specialite, acces: AccesDerogatoire, champs: dict) -> tuple[dict, dict]:
    """Set fields on a status under the same validation as acces_modifier; returns (before, after)."""
    avant, apres = _appliquer(acces, champs, CHAMPS_ACCES)
    _valider_acces(acces, specialite)
    acces.mis_a_jour_le = timezone.now()
    _enregistrer(acces)
    return avant, apres


def _laboratoires_du_cpc(specialite: Specialite) -> list[Laboratoire]:
    """R40, R41: the AMM holder and the exploitant hear about the CPC."""
    return [lab for lab in (specialite.titulaire, specialite.exploitant) if lab is not None]


@transaction.atomic
def signalement_creer(
    *,
    origine: str,
    organisation: str,
    situation: str,
    par=None,
    date_signalement: datetime.date | None = None,
    specialite: Specialite | None = None,
    substance: Substance | None = None,
) -> Signalement:
    """R39: record a situation reported to the ANSM, with its source, that may lead to a CPC."""
    _verifier_ansm(par)
    if origine not in OrigineSignalement.values:
        raise ReferentielError(
            "Un signalement provient de l'Institut national du cancer, d'un centre de référence ou de compétence "
            "maladies rares, d'un conseil national professionnel, d'une association de patients agréée, ou de "
            "l'ANSM elle-même : choisissez sa source.",
            "R39",
            champ="origine",
        )
    organisation = _texte_obligatoire(organisation, "Indiquez l'organisme qui signale la situation.", "organisation")
    situation = _texte_obligatoire(situation, "Décrivez la situation signalée.", "situation")
    if specialite is None and substance is None:
        raise ReferentielError("Désignez la spécialité ou la substance concernée.", "R39", champ="specialite")
    date_signalement = date_signalement or timezone.localdate()
    if date_signalement > timezone.localdate():
        raise ReferentielError("La date du signalement ne peut pas être future.", champ="date_signalement")
    if specialite is not None:
        specialite = _verrouiller(specialite.pk)
    signalement = Signalement(
        origine=origine,
        organisation=organisation,
        situation=situation,
        date_signalement=date_signalement,
        specialite=specialite,
        substance=substance,
        enregistre_par=par,
    )
    _enregistrer(signalement)
    if specialite is not None:
        _fiche_modifiee(
            specialite=specialite,
            par=par,
            action="Signalement enregistré",
            objet=str(signalement),
            apres={
                "origine": signalement.origine,
                "organisation": organisation,
                "date_signalement": _json(date_signalement),
            },
        )
    return signalement


@transaction.atomic
def cpc_creer(
    *,
    specialite: Specialite,
    par=None,
    signalement: Signalement | None = None,
    origine_signalement: str = "",
    conditions_utilisation: str = "",
) -> AccesDerogatoire:
    """R38-R39: draft a CPC for a medicine with an AMM, from a signalement (whose source it keeps) or not."""
    _verifier_ansm(par)
    specialite = _verrouiller(specialite.pk)
    if signalement is not None:
        signalement = Signalement.objects.select_for_update().get(pk=signalement.pk)
        if signalement.cpc_id is not None:
            raise ReferentielError("Ce signalement a déjà donné lieu à un CPC.", "R39", champ="signalement")
        if signalement.specialite_id not in (None, specialite.pk):
            raise ReferentielError("Ce signalement concerne une autre spécialité.", "R39", champ="signalement")
        if (
            signalement.substance_id
            and not specialite.compositions.filter(substance_id=signalement.substance_id).exists()
        ):
            raise ReferentielError(
                f"Ce signalement concerne la substance {signalement.substance}, absente de cette spécialité.",
                "R39",
                champ="signalement",
            )
        origine_signalement = signalement.origine
    if not origine_signalement:
        raise ReferentielError(
            "Indiquez l'origine du signalement qui conduit à ce CPC.", "R39", champ="origine_signalement"
        )
    acces = acces_creer(
        specialite=specialite,
        type_acces=TypeAcces.CPC,
        par=par,
        etape_cpc=EtapeCPC.BROUILLON,
        origine_signalement=origine_signalement,
        conditions_utilisation=conditions_utilisation,
    )
    if signalement is not None:
        signalement.cpc = acces
        signalement.save(update_fields=["cpc"])
        _fiche_modifiee(
            specialite=specialite,
            par=par,
            action="CPC issu d'un signalement",
            objet=str(signalement),
            apres={"cpc": str(acces), "origine": signalement.origine, "organisation": signalement.organisation},
        )
    return acces


def _cpc_etape(
    specialite: Specialite,
    acces: AccesDerogatoire,
    champs: dict,
    *,
    par,
    action: str,
    sujet: str | None = None,
    gabarit: str | None = None,
    laboratoires=None,
) -> None:
    """One step of a CPC's life (R38, R40): write the status, tell the holder / exploitant, historise the fiche."""
    avant, apres = _ecrire_acces(specialite, acces, champs)
    if gabarit:
        apres["destinataires"] = _notifier_laboratoires(
            laboratoires if laboratoires is not None else _laboratoires_du_cpc(specialite),
            sujet=sujet,
            gabarit=gabarit,
            contexte={"specialite": specialite, "acces": acces},
        )
    _fiche_modifiee(specialite=specialite, par=par, action=action, objet=str(acces), avant=avant, apres=apres)


@transaction.atomic
def cpc_transmettre_titulaire(
    *, acces: AccesDerogatoire, date_entree_vigueur_prevue: datetime.date, par=None
) -> AccesDerogatoire:
    """R40: send the draft CPC (and its PUT-SP) to the AMM holder / exploitant for comments, with the planned date
    of entry into force; they are told by email."""
    _verifier_ansm(par)
    specialite, acces = _verrouiller_acces(acces)
    _exiger_cpc(acces, EtapeCPC.TRANSMIS_TITULAIRE)
    if date_entree_vigueur_prevue is None or date_entree_vigueur_prevue < timezone.localdate():
        raise ReferentielError(
            "Indiquez la date d'entrée en vigueur prévue, à venir : le titulaire formule ses observations avant.",
            "R40",
            champ="date_entree_vigueur_prevue",
        )
    laboratoires = _laboratoires_du_cpc(specialite)
    if not laboratoires:
        raise ReferentielError(
            "Le projet de CPC est transmis au titulaire de l'AMM ou à l'exploitant : enregistrez-le d'abord sur la "
            "fiche.",
            "R40",
        )
    _cpc_etape(
        specialite,
        acces,
        {"etape_cpc": EtapeCPC.TRANSMIS_TITULAIRE, "date_entree_vigueur_prevue": date_entree_vigueur_prevue},
        par=par,
        action="Projet de CPC transmis au titulaire pour observations",
        sujet=f"Projet de CPC pour {specialite.nom} : vos observations",
        gabarit="gestion/emails/cpc_transmis.txt",
        laboratoires=laboratoires,
    )
    return acces


@transaction.atomic
def cpc_publier(*, acces: AccesDerogatoire, par=None, date_debut: datetime.date | None = None) -> AccesDerogatoire:
    """R38, R40: publish the CPC for 3 years from its entry into force; the holder / exploitant is told."""
    _verifier_ansm(par)
    specialite, acces = _verrouiller_acces(acces)
    _exiger_cpc(acces, EtapeCPC.PUBLIE)
    date_debut = date_debut or acces.date_entree_vigueur_prevue or timezone.localdate()
    _cpc_etape(
        specialite,
        acces,
        {
            "etape_cpc": EtapeCPC.PUBLIE,
            "etat": EtatAcces.EN_COURS,
            "date_debut": date_debut,
            "date_fin": regles.ajouter_ans(date_debut, regles.DUREE_CPC_ANS),
        },
        par=par,
        action="Publication du CPC",
        sujet=f"CPC publié pour {specialite.nom}",
        gabarit="gestion/emails/cpc_publie.txt",
    )
    return acces


@transaction.atomic
def cpc_renouveler(*, acces: AccesDerogatoire, par=None, date_debut: datetime.date | None = None) -> RenouvellementCPC:
    """R38: renew a published CPC for a new 3-year term, starting today at the latest and with no gap."""
    _verifier_ansm(par)
    specialite, acces = _verrouiller_acces(acces)
    _exiger_cpc(acces)
    if acces.etape_cpc != EtapeCPC.PUBLIE or not acces.date_debut or not acces.date_fin:
        raise ReferentielError("Seul un CPC publié, avec ses dates, se renouvelle.", "R38")
    aujourd_hui = timezone.localdate()
    date_debut = date_debut or aujourd_hui
    lendemain_fin = acces.date_fin + datetime.timedelta(days=1)
    if lendemain_fin < aujourd_hui and date_debut > lendemain_fin:
        raise ReferentielError(
            f"Ce CPC a pris fin le {acces.date_fin:%d/%m/%Y} : un CPC échu ne se renouvelle pas, il est terminé ; "
            "encadrez à nouveau la prescription par un nouveau CPC.",
            "R38",
            champ="date_debut",
        )
    if not acces.date_debut < date_debut <= min(aujourd_hui, lendemain_fin):
        raise ReferentielError(
            f"La nouvelle période commence après le {acces.date_debut:%d/%m/%Y}, au plus tard aujourd'hui et sans "
            f"interruption, soit au plus tard le {min(aujourd_hui, lendemain_fin):%d/%m/%Y}.",
            "R38",
            champ="date_debut",
        )
    renouvellement = RenouvellementCPC(
        acces=acces,
        debut_precedent=acces.date_debut,
        fin_precedente=acces.date_fin,
        debut=date_debut,
        fin=regles.ajouter_ans(date_debut, regles.DUREE_CPC_ANS),
        decide_par=par,
    )
    _enregistrer(renouvellement)
    _cpc_etape(
        specialite,
        acces,
        {"date_debut": renouvellement.debut, "date_fin": renouvellement.fin},
        par=par,
        action="Renouvellement du CPC pour 3 ans",
        sujet=f"CPC renouvelé pour {specialite.nom}",
        gabarit="gestion/emails/cpc_renouvele.txt",
    )
    return renouvellement


@transaction.atomic
def cpc_terminer(*, acces: AccesDerogatoire, par=None, date_fin: datetime.date | None = None) -> AccesDerogatoire:
    """R38: end a CPC that was not renewed, on its 3-year term (or earlier, when the ANSM stops it)."""
    _verifier_ansm(par)
    specialite, acces = _verrouiller_acces(acces)
    _exiger_cpc(acces)
    aujourd_hui = timezone.localdate()
    if date_fin is None:
        date_fin = acces.date_fin if acces.date_fin and acces.date_fin <= aujourd_hui else aujourd_hui
    if date_fin > aujourd_hui:
        raise ReferentielError("Un CPC prend fin à son terme ou aujourd'hui, pas à une date future.", champ="date_fin")
    if acces.date_fin and date_fin > acces.date_fin:
        raise ReferentielError(
            f"Ce CPC arrive à son terme le {acces.date_fin:%d/%m/%Y} : renouvelez-le pour le prolonger.",
            "R38",
            champ="date_fin",
        )
    champs = {"etat": EtatAcces.TERMINE, "date_fin": date_fin}
    if acces.date_debut and date_fin < acces.date_debut:
        champs["date_debut"] = date_fin  # a CPC withdrawn before its planned entry into force
    publie = acces.etape_cpc == EtapeCPC.PUBLIE  # only a published CPC's holder is told of its end
    _cpc_etape(
        specialite,
        acces,
        champs,
        par=par,
        action="Fin du CPC",
        sujet=f"Fin du CPC pour {specialite.nom}",
        gabarit="gestion/emails/cpc_termine.txt" if publie else None,
    )
    return acces


# --- The laboratory's own actions (R23, R29, R32, R34) ---------------------------------------------------------


def _verifier_laboratoire_du_produit(par, specialite: Specialite) -> None:
    """Only a laboratory account of the titulaire or the exploitant acts for the product."""
    if par is None or par.role != Role.LABORATOIRE or not par.laboratoire_id:
        raise ReferentielError("Seul le laboratoire titulaire ou exploitant du produit fait cette démarche.")
    _verifier_ansm_ou_laboratoire(par, specialite)


def _stocker_fichier(objet: models.Model, fichier, titre: str) -> str:
    """Check a file by content (documents.verifier_fichier) and attach it to objet; returns the stored name."""
    if not isinstance(fichier, File):
        fichier = File(fichier, name=getattr(fichier, "name", None) or titre)
    verifie = verifier_fichier(fichier)
    fichier.seek(0)
    objet.fichier.save(nom_de_fichier(titre, verifie), fichier, save=False)
    objet.type_mime, objet.taille = verifie.type_mime, verifie.taille
    return objet.fichier.name


@transaction.atomic
def put_proposer(*, acces: AccesDerogatoire, fichier, par, version: str, **champs) -> PUT:
    """R32: the laboratory proposes its PUT (PUT-SP, or PUT-RD for an AAP) with the draft protocol; the ANSM
    validates it later. The proposal and its file stay private until then."""
    specialite = Specialite.objects.get(pk=acces.specialite_id)
    _verifier_laboratoire_du_produit(par, specialite)
    type_put = TypePUT.PUT_RD if acces.type_acces in TYPES_AAP else TypePUT.PUT_SP
    put = put_creer(acces=acces, type_put=type_put, par=par, version=version, est_proposition=True, **champs)
    nom_stocke = None
    try:
        nom_stocke = _stocker_fichier(put, fichier, f"proposition-{type_put}-v{put.version}")
        put.propose_par, put.propose_le = par, timezone.now()
        put.save(update_fields=["fichier", "type_mime", "taille", "propose_par", "propose_le"])
    except BaseException:
        if nom_stocke:
            default_storage.delete(nom_stocke)
        raise
    return put


@transaction.atomic
def put_valider_proposition(
    *, put: PUT, par=None, date_validation: datetime.date | None = None, crpv: str | None = None
) -> PUT:
    """R32: the ANSM validates a laboratory's PUT proposal; it becomes the published protocol of the status."""
    _verifier_ansm(par)
    put = PUT.objects.select_related("acces").get(pk=put.pk)
    if not put.est_proposition:
        raise ReferentielError("Ce PUT est déjà validé.", "R32")
    champs = {"est_proposition": False, "date_validation": date_validation or timezone.localdate()}
    if crpv is not None:
        champs["crpv"] = crpv
    return put_modifier(put=put, par=par, **champs)


@transaction.atomic
def rapport_deposer(*, rapport: RapportPeriodique, fichier, par) -> RapportPeriodique:
    """R34: the laboratory submits its periodic synthesis report for a due period: the file, then « reçu »."""
    rapport = rapport_recevoir(rapport=rapport, par=par)
    nom_stocke = None
    try:
        nom_stocke = _stocker_fichier(
            rapport, fichier, f"rapport-{rapport.periode_debut:%Y%m}-{rapport.periode_fin:%Y%m}"
        )
        rapport.depose_par, rapport.depose_le = par, timezone.now()
        rapport.save(update_fields=["fichier", "type_mime", "taille", "depose_par", "depose_le"])
    except BaseException:
        if nom_stocke:
            default_storage.delete(nom_stocke)
        raise
    return rapport


def _verifier_delai_prolongeable(acces: AccesDerogatoire, duree_mois) -> int:
    """R23: what acces_prolonger_delai_aap will check, told to the laboratory when it asks rather than later."""
    if acces.type_acces != TypeAcces.AAC or not acces.engagement_aap or not acces.date_premiere_aac:
        raise ReferentielError(
            "Seul un AAC dont le laboratoire s'est engagé à déposer une AAP a un délai à prolonger.", "R23"
        )
    try:
        duree_mois = int(duree_mois)
    except (TypeError, ValueError):
        duree_mois = 0
    if not 1 <= duree_mois <= regles.PROLONGATION_AAP_MAX_MOIS:
        raise ReferentielError(
            "Une prolongation du délai de dépôt de l'AAP dure de 1 à 6 mois au plus.", "R23", champ="duree_mois"
        )
    return duree_mois


@transaction.atomic
def prolongation_demander(*, acces: AccesDerogatoire, duree_mois: int, motif: str, par) -> DemandeProlongation:
    """R23: the laboratory's motivated request to extend its AAP filing deadline by at most 6 months."""
    specialite, acces = _verrouiller_acces(acces)
    _verifier_laboratoire_du_produit(par, specialite)
    duree_mois = _verifier_delai_prolongeable(acces, duree_mois)
    motif = _texte_obligatoire(
        motif, "La prolongation est accordée sur demande motivée : expliquez pourquoi le délai ne suffit pas.", "motif"
    )
    demande = DemandeProlongation(
        acces=acces, laboratoire_id=par.laboratoire_id, duree_mois=duree_mois, motif=motif, demandee_par=par
    )
    _enregistrer(demande)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Demande de prolongation du délai de dépôt de l'AAP",
        objet=str(acces),
        apres={"duree_mois": duree_mois, "motif": motif, "date_limite_depot_aap": _json(acces.date_limite_depot_aap)},
    )
    return demande


def _verrouiller_demande_prolongation(demande: DemandeProlongation) -> tuple[Specialite, DemandeProlongation]:
    specialite = _verrouiller(
        DemandeProlongation.objects.values_list("acces__specialite_id", flat=True).get(pk=demande.pk)
    )
    demande = DemandeProlongation.objects.select_for_update().select_related("acces", "laboratoire").get(pk=demande.pk)
    if demande.statut != StatutDemandeProlongation.DEPOSEE:
        raise ReferentielError(f"Cette demande est déjà traitée ({demande.get_statut_display().lower()}).", "R23")
    return specialite, demande


@transaction.atomic
def prolongation_accorder(*, demande: DemandeProlongation, par=None, reponse: str = "") -> DemandeProlongation:
    """R23: grant a laboratory's extension request: the extension is recorded and the deadline moves."""
    _verifier_ansm(par)
    specialite, demande = _verrouiller_demande_prolongation(demande)
    prolongation = acces_prolonger_delai_aap(
        acces=demande.acces, duree_mois=demande.duree_mois, motif=demande.motif, par=par
    )
    demande.statut = StatutDemandeProlongation.ACCORDEE
    demande.prolongation = prolongation
    demande.traitee_par, demande.traitee_le, demande.reponse = par, timezone.now(), (reponse or "").strip()
    _enregistrer(demande)
    demande.acces.refresh_from_db(fields=["date_limite_depot_aap"])
    _notifier_laboratoires(
        [demande.laboratoire],
        sujet=f"Prolongation accordée : dépôt de l'AAP de {specialite.nom}",
        gabarit="gestion/emails/prolongation_traitee.txt",
        contexte={"specialite": specialite, "demande": demande, "acces": demande.acces},
    )
    return demande


@transaction.atomic
def prolongation_refuser(*, demande: DemandeProlongation, motif: str, par=None) -> DemandeProlongation:
    """R23: refuse a laboratory's extension request, with the reason; the deadline is unchanged."""
    _verifier_ansm(par)
    specialite, demande = _verrouiller_demande_prolongation(demande)
    demande.reponse = _texte_obligatoire(motif, "Motivez le refus de la prolongation.", "motif")
    demande.statut = StatutDemandeProlongation.REFUSEE
    demande.traitee_par, demande.traitee_le = par, timezone.now()
    _enregistrer(demande)
    _notifier_laboratoires(
        [demande.laboratoire],
        sujet=f"Prolongation refusée : dépôt de l'AAP de {specialite.nom}",
        gabarit="gestion/emails/prolongation_traitee.txt",
        contexte={"specialite": specialite, "demande": demande, "acces": demande.acces},
    )
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Refus de la prolongation du délai de dépôt de l'AAP",
        objet=str(demande.acces),
        apres={"duree_mois": demande.duree_mois, "motif_refus": demande.reponse},
    )
    return demande


@transaction.atomic
def declaration_titulaire_deposer(
    *,
    specialite: Specialite,
    date_effet: datetime.date,
    par,
    nouveau_titulaire: str = "",
    nouvel_exploitant: str = "",
    sans_exploitant: bool = False,
    commentaire: str = "",
) -> DeclarationChangementTitulaire:
    """R29: the laboratory reports a change of rights holder (or exploitant) of its product to the ANSM."""
    specialite = _verrouiller(specialite.pk)
    _verifier_laboratoire_du_produit(par, specialite)
    nouveau_titulaire, nouvel_exploitant = (nouveau_titulaire or "").strip(), (nouvel_exploitant or "").strip()
    if not (nouveau_titulaire or nouvel_exploitant or sans_exploitant):
        raise ReferentielError(
            "Indiquez le nouveau titulaire des droits ou le nouvel exploitant.", "R29", champ="nouveau_titulaire"
        )
    if nouvel_exploitant and sans_exploitant:
        raise ReferentielError(
            "Indiquez un nouvel exploitant ou l'absence d'exploitant, pas les deux.", "R29", champ="nouvel_exploitant"
        )
    if date_effet is None:
        raise ReferentielError("Indiquez la date d'effet du changement.", "R29", champ="date_effet")
    declaration = DeclarationChangementTitulaire(
        specialite=specialite,
        laboratoire_id=par.laboratoire_id,
        nouveau_titulaire=nouveau_titulaire,
        nouvel_exploitant=nouvel_exploitant,
        sans_exploitant=sans_exploitant,
        date_effet=date_effet,
        commentaire=(commentaire or "").strip(),
        declaree_par=par,
    )
    _enregistrer(declaration)
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Déclaration d'un changement de titulaire",
        objet=specialite.nom,
        apres={
            **_instantane(declaration, ("nouveau_titulaire", "nouvel_exploitant", "date_effet")),
            "sans_exploitant": sans_exploitant,
        },
    )
    return declaration


def _verrouiller_declaration(
    declaration: DeclarationChangementTitulaire,
) -> tuple[Specialite, DeclarationChangementTitulaire]:
    specialite = _verrouiller(declaration.specialite_id)
    declaration = (
        DeclarationChangementTitulaire.objects.select_for_update().select_related("laboratoire").get(pk=declaration.pk)
    )
    if declaration.statut != StatutDeclarationTitulaire.DEPOSEE:
        raise ReferentielError(f"Cette déclaration est déjà traitée ({declaration.get_statut_display().lower()}).")
    return specialite, declaration


def _laboratoire_nomme(nom: str) -> Laboratoire:
    """The laboratory of that name (case ignored), created when the référentiel does not know it yet."""
    existant = Laboratoire.objects.filter(nom__iexact=nom).order_by("pk").first()
    return existant or Laboratoire.objects.create(nom=nom)


@transaction.atomic
def declaration_titulaire_appliquer(
    *, declaration: DeclarationChangementTitulaire, par=None, reponse: str = ""
) -> DeclarationChangementTitulaire:
    """R29: the ANSM takes a reported change of rights holder into account: the product's titulaire / exploitant
    change through specialite_modifier (history with before and after)."""
    _verifier_ansm(par)
    specialite, declaration = _verrouiller_declaration(declaration)
    champs = {}
    if declaration.nouveau_titulaire:
        champs["titulaire"] = _laboratoire_nomme(declaration.nouveau_titulaire)
    if declaration.nouvel_exploitant:
        champs["exploitant"] = _laboratoire_nomme(declaration.nouvel_exploitant)
    elif declaration.sans_exploitant:
        champs["exploitant"] = None
    anciens = _laboratoires_du_cpc(specialite)
    specialite = specialite_modifier(specialite=specialite, par=par, **champs)
    declaration.statut = StatutDeclarationTitulaire.APPLIQUEE
    declaration.traitee_par, declaration.traitee_le, declaration.reponse = par, timezone.now(), (reponse or "").strip()
    _enregistrer(declaration)
    _notifier_laboratoires(
        [declaration.laboratoire, *anciens, *_laboratoires_du_cpc(specialite)],
        sujet=f"Changement de titulaire pris en compte : {specialite.nom}",
        gabarit="gestion/emails/declaration_traitee.txt",
        contexte={"specialite": specialite, "declaration": declaration},
    )
    return declaration


@transaction.atomic
def declaration_titulaire_rejeter(
    *, declaration: DeclarationChangementTitulaire, motif: str, par=None
) -> DeclarationChangementTitulaire:
    """R29: reject a reported change (a typo, a change the ANSM cannot confirm), with the reason."""
    _verifier_ansm(par)
    specialite, declaration = _verrouiller_declaration(declaration)
    declaration.reponse = _texte_obligatoire(motif, "Motivez le rejet de la déclaration.", "motif")
    declaration.statut = StatutDeclarationTitulaire.REJETEE
    declaration.traitee_par, declaration.traitee_le = par, timezone.now()
    _enregistrer(declaration)
    _notifier_laboratoires(
        [declaration.laboratoire],
        sujet=f"Déclaration de changement de titulaire rejetée : {specialite.nom}",
        gabarit="gestion/emails/declaration_traitee.txt",
        contexte={"specialite": specialite, "declaration": declaration},
    )
    _fiche_modifiee(
        specialite=specialite,
        par=par,
        action="Rejet d'une déclaration de changement de titulaire",
        objet=specialite.nom,
        apres={"motif_rejet": declaration.reponse},
    )
    return declaration
