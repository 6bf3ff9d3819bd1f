from django.db import models


class StatutDemande(models.TextChoices):
    BROUILLON = "brouillon", "Brouillon"
    TRANSMISE_PHARMACIEN = "transmise_pharmacien", "Transmise au pharmacien"
    RENVOYEE = "renvoyee", "Renvoyée au prescripteur"
    EN_EVALUATION = "en_evaluation", "En évaluation à l'ANSM"
    COMPLEMENT_DEMANDE = "complement_demande", "Complément demandé"
    COMPLEMENT_FOURNI = "complement_fourni", "Complément fourni"
    OCTROYEE = "octroyee", "Octroyée"
    REFUSEE = "refusee", "Refusée"
    ANNULEE = "annulee", "Annulée"
    EXPIREE = "expiree", "Expirée"


# States in which the prescriber still holds the pen (the request is not yet with the PUI).
STATUTS_EDITABLES_PRESCRIPTEUR = frozenset({StatutDemande.BROUILLON, StatutDemande.RENVOYEE})
# States waiting for an ANSM decision: the ANSM review queue (issue 5) reads these.
STATUTS_INSTRUCTION = frozenset(
    {StatutDemande.EN_EVALUATION, StatutDemande.COMPLEMENT_DEMANDE, StatutDemande.COMPLEMENT_FOURNI}
)
STATUTS_DECIDES = frozenset({StatutDemande.OCTROYEE, StatutDemande.REFUSEE, StatutDemande.EXPIREE})
# Closed without a treatment in progress: what the retention period (comptes.retention) pseudonymises.
STATUTS_CLOS = (StatutDemande.REFUSEE, StatutDemande.EXPIREE, StatutDemande.ANNULEE)
# What the PUI has to act on now (the "à traiter" tab of its inbox).
STATUTS_A_TRAITER_PUI = frozenset({StatutDemande.TRANSMISE_PHARMACIEN, StatutDemande.COMPLEMENT_DEMANDE})

# DSFR badge class per state (the list and the request page show the state as a badge).
BADGE_STATUT = {
    StatutDemande.BROUILLON: "fr-badge--no-icon",
    StatutDemande.TRANSMISE_PHARMACIEN: "fr-badge--info",
    StatutDemande.RENVOYEE: "fr-badge--warning",
    StatutDemande.EN_EVALUATION: "fr-badge--new",
    StatutDemande.COMPLEMENT_DEMANDE: "fr-badge--warning",
    StatutDemande.COMPLEMENT_FOURNI: "fr-badge--info",
    StatutDemande.OCTROYEE: "fr-badge--success",
    StatutDemande.REFUSEE: "fr-badge--error",
    StatutDemande.ANNULEE: "fr-badge--no-icon",
    StatutDemande.EXPIREE: "fr-badge--no-icon",
}


class TypeMedicament(models.TextChoices):
    """R11-R12: what the prescriber asks for, which decides whether a justification is required."""

    REFERENCE_INDICATION = "reference_indication", "Spécialité référencée, indication référencée"
    REFERENCE_HORS_INDICATION = "reference_hors_indication", "Spécialité référencée, indication non référencée"
    NON_REFERENCE = "non_reference", "Médicament non référencé"


class Situation(models.TextChoices):
    """R8: the context of the request. Only SOIN is within the AAC's scope."""

    SOIN = "soin", "Traitement d'un patient (maladie grave, rare ou invalidante, sans alternative appropriée)"
    INVESTIGATION = "investigation", "Utilisation dans un objectif d'investigation"
    POURSUITE_ESSAI = "poursuite_essai", "Poursuite de traitement à la fin d'un essai clinique"
    PREPARATION = "preparation", "Préparation hospitalière ou magistrale à partir d'un produit sans AMM"
    IMPORTATION_RUPTURE = "importation_rupture", "Médicament importé en raison d'une rupture du produit français"
    HORS_AMM_COMMERCIALISE = "hors_amm_commercialise", "Utilisation hors AMM d'un médicament commercialisé en France"


# R8: why each out-of-scope situation is refused at filing, and where the prescriber should go instead.
MOTIF_HORS_CHAMP = {
    Situation.INVESTIGATION: "une utilisation dans un objectif d'investigation relève d'un essai clinique",
    Situation.POURSUITE_ESSAI: (
        "la poursuite de traitement en fin d'essai clinique doit être garantie par un amendement au protocole "
        "ou un essai de poursuite de traitement"
    ),
    Situation.PREPARATION: (
        "une préparation hospitalière ou magistrale à partir d'un produit sans AMM relève d'une autorisation "
        "d'importation"
    ),
    Situation.IMPORTATION_RUPTURE: (
        "un médicament importé en raison de l'indisponibilité du médicament français relève de l'autorisation "
        "d'importation"
    ),
    Situation.HORS_AMM_COMMERCIALISE: (
        "l'utilisation hors AMM d'un médicament commercialisé en France relève d'un CPC ou de la prescription hors AMM"
    ),
}


class Sexe(models.TextChoices):
    FEMININ = "F", "Féminin"
    MASCULIN = "M", "Masculin"
    INDETERMINE = "I", "Indéterminé"


class UniteAge(models.TextChoices):
    ANS = "ans", "ans"
    MOIS = "mois", "mois"


class Urgence(models.TextChoices):
    NORMALE = "normale", "Non urgente"
    VITALE = "vitale", "Urgence vitale"


class SensDecision(models.TextChoices):
    OCTROI = "octroi", "Octroi"
    REFUS = "refus", "Refus"


class MotifRefus(models.TextChoices):
    """R18: the usual reasons of a refusal, or another reason written out."""

    ALTERNATIVE_AMM = "alternative_amm", "Existence d'une alternative thérapeutique appropriée disposant d'une AMM"
    DONNEES_INSUFFISANTES = (
        "donnees_insuffisantes",
        "Éléments insuffisants pour présumer l'efficacité et la sécurité dans la situation du patient",
    )
    INVESTIGATION = "investigation", "Utilisation demandée dans un objectif d'investigation"
    ESSAI_OU_AAP = "essai_ou_aap", "Inclusion possible dans un essai clinique ou un accès précoce en cours"
    AUTRE = "autre", "Autre motif"


class DestinataireComplement(models.TextChoices):
    """Who an ANSM information request is addressed to: the PUI (R14) or the laboratory (R16, issue 5)."""

    PUI = "pui", "PUI (pharmacien et prescripteur)"
    LABORATOIRE = "laboratoire", "Laboratoire"


class PieceLaboratoire(models.TextChoices):
    """R16: what the ANSM may ask a laboratory for, on a first request for a non-referenced medicine or a new
    indication. The évaluateur ticks the pieces needed; the laboratory answers with documents."""

    DONNEES_PRODUIT = (
        "donnees_produit",
        "Informations d'efficacité, de sécurité et de fabrication (brochure pour l'investigateur, IMPD)",
    )
    RECHERCHES = (
        "recherches_commerciales",
        "Liste des recherches à des fins commerciales (RIPH) prévues ou en cours, avec les investigateurs et sites "
        "français",
    )
    AMM_ETRANGERES = "amm_etrangeres", "Copie des autorisations de mise sur le marché obtenues à l'étranger"
    PROJET_PUT = "projet_put_sp", "Projet de PUT-SP"
    ENGAGEMENT_AAP = (
        "engagement_aap",
        "Engagement à déposer une demande d'accès précoce (AAP) dans les 12 mois (18 mois pour une maladie rare), "
        "si des recherches à des fins commerciales sont en cours dans l'indication : sans lui, aucune AAC ne peut "
        "être octroyée (R7)",
    )
    APPROVISIONNEMENT = "approvisionnement", "Capacités d'approvisionnement et conditionnement"


class StatutRecours(models.TextChoices):
    DEPOSE = "depose", "Déposé"
    REJETE = "rejete", "Rejeté"
    ACCUEILLI = "accueilli", "Accueilli"


class CanalAcces(models.TextChoices):
    PAGE = "page", "Page web"
    API = "api", "API"
    PDF = "pdf", "Décision PDF"
    PIECE = "piece", "Pièce jointe"
