from django.db import models


class Role(models.TextChoices):
    PRESCRIPTEUR = "prescripteur", "Prescripteur"
    PHARMACIEN = "pharmacien", "Pharmacien (PUI)"
    EVALUATEUR = "evaluateur", "Évaluateur ANSM"
    LABORATOIRE = "laboratoire", "Laboratoire"
    ADMINISTRATEUR = "administrateur", "Administrateur"


class Territoire(models.TextChoices):
    """Territories of care (R9). Only some are within the ANSM's competence for AAC."""

    METROPOLE = "metropole", "France métropolitaine"
    GUADELOUPE = "guadeloupe", "Guadeloupe"
    MARTINIQUE = "martinique", "Martinique"
    REUNION = "reunion", "La Réunion"
    GUYANE = "guyane", "Guyane"
    SAINT_PIERRE_ET_MIQUELON = "saint_pierre_et_miquelon", "Saint-Pierre-et-Miquelon"
    MAYOTTE = "mayotte", "Mayotte"
    WALLIS_ET_FUTUNA = "wallis_et_futuna", "Wallis-et-Futuna"
    SAINT_MARTIN = "saint_martin", "Saint-Martin"
    SAINT_BARTHELEMY = "saint_barthelemy", "Saint-Barthélemy"
    TAAF = "taaf", "Terres australes et antarctiques françaises"
    NOUVELLE_CALEDONIE = "nouvelle_caledonie", "Nouvelle-Calédonie"
    POLYNESIE_FRANCAISE = "polynesie_francaise", "Polynésie française"


# R9: the ANSM is not competent in the TAAF, New Caledonia or French Polynesia.
TERRITOIRES_HORS_COMPETENCE = frozenset(
    {Territoire.TAAF, Territoire.NOUVELLE_CALEDONIE, Territoire.POLYNESIE_FRANCAISE}
)


def territoire_competence_ansm(territoire: str) -> bool:
    """R9: whether an AAC can be requested for a patient cared for in this territory."""
    return territoire not in TERRITOIRES_HORS_COMPETENCE


class TypeEvenementCompte(models.TextChoices):
    """Security events of an account, kept in the append-only account journal."""

    DOUBLE_FACTEUR_ACTIVE = "double_facteur_active", "Second facteur activé"
    DOUBLE_FACTEUR_VERIFIE = "double_facteur_verifie", "Second facteur vérifié"
    DOUBLE_FACTEUR_ECHEC = "double_facteur_echec", "Code de second facteur refusé"
    DOUBLE_FACTEUR_REINITIALISE = "double_facteur_reinitialise", "Second facteur réinitialisé"
    MOT_DE_PASSE_MODIFIE = "mot_de_passe_modifie", "Mot de passe modifié"
    MOT_DE_PASSE_REINITIALISE = "mot_de_passe_reinitialise", "Mot de passe réinitialisé par courriel"
    EXPORT_DONNEES = "export_donnees", "Téléchargement de ses données personnelles"
    EXPORT_DONNEES_PATIENTS = "export_donnees_patients", "Export de données de patients"


class OperationAudit(models.TextChoices):
    """The write a row of the audit trail records (PostgreSQL's TG_OP)."""

    CREATION = "INSERT", "Création"
    MODIFICATION = "UPDATE", "Modification"
    SUPPRESSION = "DELETE", "Suppression"
