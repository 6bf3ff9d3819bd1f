from django.db import models


class TypeAcces(models.TextChoices):
    AAC = "AAC", "AAC — accès compassionnel"
    AAP = "AAP", "AAP — accès précoce"
    CPC = "CPC", "CPC — cadre de prescription compassionnelle"
    ATUN = "ATUn", "ATU nominative (historique)"
    ATUC = "ATUc", "ATU de cohorte (historique)"
    RTU = "RTU", "RTU (historique)"


# Glossary: the pre-1 July 2021 frameworks and the type that replaced them.
TYPE_SUCCESSEUR = {TypeAcces.ATUN: TypeAcces.AAC, TypeAcces.ATUC: TypeAcces.AAP, TypeAcces.RTU: TypeAcces.CPC}
TYPES_HISTORIQUES = frozenset(TYPE_SUCCESSEUR)


class EtatAcces(models.TextChoices):
    EN_COURS = "en_cours", "En cours"
    SUSPENDU = "suspendu", "Suspendu"
    TERMINE = "termine", "Terminé / arrêté"


class PhaseAAP(models.TextChoices):
    PRE_AMM = "pre_amm", "Pré-AMM"
    POST_AMM = "post_amm", "Post-AMM"


class StatutAMM(models.TextChoices):
    AUCUNE = "aucune", "Pas d'AMM en France"
    AUTORISEE = "autorisee", "AMM en France"
    ARRETEE = "arretee", "AMM, commercialisation arrêtée"


class TypePUT(models.TextChoices):
    PUT_SP = "PUT-SP", "PUT-SP (suivi des patients)"
    PUT_RD = "PUT-RD", "PUT-RD (recueil de données)"


class TypeDocument(models.TextChoices):
    RCP = "rcp", "RCP"
    PUT = "put", "PUT"
    RESUME_RAPPORT = "resume_rapport", "Résumé de rapport de synthèse"
    DECISION = "decision", "Décision"
    LETTRE_INFO = "lettre_info", "Lettre d'information"
    AUTRE = "autre", "Autre document"


class OrigineSignalement(models.TextChoices):
    """R39: who may report a situation that leads to a CPC."""

    INCA = "inca", "Institut national du cancer"
    CENTRE_REFERENCE = "centre_reference", "Centre de référence ou de compétence maladies rares"
    CNP = "cnp", "Conseil national professionnel"
    ASSOCIATION_PATIENTS = "association_patients", "Association de patients agréée"
    ANSM = "ansm", "Auto-saisine de l'ANSM"


class EtapeCPC(models.TextChoices):
    """R40: a CPC's life before and after publication."""

    BROUILLON = "brouillon", "Projet"
    TRANSMIS_TITULAIRE = "transmis_titulaire", "Transmis au titulaire pour observations"
    PUBLIE = "publie", "Publié"


class StatutRapport(models.TextChoices):
    ATTENDU = "attendu", "Attendu"
    RECU = "recu", "Reçu"
    EN_EVALUATION = "en_evaluation", "En évaluation"
    VALIDE = "valide", "Validé"


class AireTherapeutique(models.TextChoices):
    ONCOLOGIE = "oncologie", "Oncologie"
    HEMATOLOGIE = "hematologie", "Hématologie"
    NEUROLOGIE = "neurologie", "Neurologie"
    INFECTIOLOGIE = "infectiologie", "Infectiologie"
    MALADIES_METABOLIQUES = "maladies_metaboliques", "Maladies métaboliques"
    PNEUMOLOGIE = "pneumologie", "Pneumologie"
    CARDIOLOGIE = "cardiologie", "Cardiologie"
    IMMUNOLOGIE = "immunologie", "Immunologie et rhumatologie"
    DERMATOLOGIE = "dermatologie", "Dermatologie"
    OPHTALMOLOGIE = "ophtalmologie", "Ophtalmologie"
    PEDIATRIE = "pediatrie", "Pédiatrie"
    GASTRO_ENTEROLOGIE = "gastro_enterologie", "Hépato-gastro-entérologie"
    ENDOCRINOLOGIE = "endocrinologie", "Endocrinologie"
    NEPHROLOGIE = "nephrologie", "Néphrologie"
    AUTRE = "autre", "Autre"


class StatutDemandeProlongation(models.TextChoices):
    """R23: a laboratory's motivated request to extend its AAP filing deadline, as the ANSM settles it."""

    DEPOSEE = "deposee", "En attente de décision"
    ACCORDEE = "accordee", "Accordée"
    REFUSEE = "refusee", "Refusée"


class StatutDeclarationTitulaire(models.TextChoices):
    """R29: a laboratory's report of a change of rights holder, until the ANSM updates the product."""

    DEPOSEE = "deposee", "En attente de traitement"
    APPLIQUEE = "appliquee", "Prise en compte"
    REJETEE = "rejetee", "Rejetée"
