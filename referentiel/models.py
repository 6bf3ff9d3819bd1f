"""The public référentiel: spécialités, their derogatory statuses, indications and critères d'octroi, PUT,
documents and periodic reports (R1-R4, R23-R42)."""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .enums import (
    AireTherapeutique,
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
from .validators import valider_atc, valider_cis


class Laboratoire(models.Model):
    """A pharmaceutical company, titulaire (rights holder) and/or exploitant of spécialités (R29)."""

    nom = models.CharField(max_length=200, unique=True)
    est_titulaire = models.BooleanField("titulaire de droits", default=False)
    est_exploitant = models.BooleanField("exploitant", default=False)
    email = models.EmailField("adresse de contact", blank=True)
    telephone = models.CharField("téléphone", max_length=30, blank=True)
    adresse = models.TextField(blank=True)

    class Meta:
        ordering = ["nom"]

    def __str__(self) -> str:
        return self.nom


class Substance(models.Model):
    """An active substance, named by its DCI (INN)."""

    dci = models.CharField("DCI", max_length=250)
    # Codes and addresses are compared byte for byte (collation "C"): no linguistic rule applies to them, and their
    # unique indexes are built in half the time (the BDPM import builds them after its rows).
    code_bdpm = models.CharField("code substance BDPM", max_length=10, null=True, blank=True, db_collation="C")

    class Meta:
        ordering = ["dci"]
        indexes = [GinIndex(fields=["dci"], name="substance_dci_trgm", opclasses=["gin_trgm_ops"])]
        # Unique constraints rather than unique=True: no extra varchar_pattern_ops index that no LIKE query uses
        # (every index is rebuilt by the BDPM import and written by each insert).
        constraints = [
            models.UniqueConstraint(
                fields=["dci"],
                name="substance_dci_unique",
                violation_error_message="Une substance porte déjà cette DCI.",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["code_bdpm"],
                name="substance_code_bdpm_unique",
                violation_error_message="Une substance porte déjà ce code BDPM.",
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return self.dci


class Specialite(models.Model):
    """A branded medicinal product. Listed in the public référentiel only while it holds a derogatory status (R1)."""

    nom = models.CharField("dénomination", max_length=500)
    # Unique (see Meta.constraints), compared byte for byte (collation "C", see Substance.code_bdpm).
    slug = models.SlugField(max_length=120, db_index=False, db_collation="C")
    cis = models.CharField("code CIS", max_length=8, null=True, blank=True, validators=[valider_cis], db_collation="C")
    substances = models.ManyToManyField(Substance, through="Composition", related_name="specialites")
    forme_pharmaceutique = models.CharField("forme pharmaceutique", max_length=250, blank=True)
    voies_administration = models.CharField("voies d'administration", max_length=250, blank=True)
    titulaire = models.ForeignKey(
        Laboratoire, on_delete=models.PROTECT, null=True, blank=True, related_name="specialites_titulaire"
    )
    exploitant = models.ForeignKey(
        Laboratoire, on_delete=models.PROTECT, null=True, blank=True, related_name="specialites_exploitant"
    )
    code_atc = models.CharField("code ATC", max_length=7, blank=True, validators=[valider_atc])
    aire_therapeutique = models.CharField(
        "aire thérapeutique", max_length=32, choices=AireTherapeutique.choices, blank=True
    )
    mitm = models.BooleanField("médicament d'intérêt thérapeutique majeur (MITM)", default=False)
    statut_amm = models.CharField("AMM en France", max_length=16, choices=StatutAMM.choices, default=StatutAMM.AUCUNE)
    date_amm = models.DateField("date d'AMM", null=True, blank=True)
    date_arret_commercialisation = models.DateField("date d'arrêt de commercialisation", null=True, blank=True)
    # Raw BDPM fields kept for the AMM check of requests (R5) and the back-office.
    statut_administratif_bdpm = models.CharField(max_length=100, blank=True)
    etat_commercialisation_bdpm = models.CharField(max_length=100, blank=True)
    # CPD (R28), as published in the BDPM or set by the AAC decision.
    reserve_hospitalier = models.BooleanField("réservé à l'usage hospitalier", default=False)
    restriction_prescripteurs = models.CharField("restriction de prescription", max_length=500, blank=True)
    retrocession = models.BooleanField("inscrit sur la liste de rétrocession", default=False)
    publiee = models.BooleanField("fiche publiée", default=True)
    demonstration = models.BooleanField("donnée de démonstration", default=False)
    cree_le = models.DateTimeField(default=timezone.now)
    mis_a_jour_le = models.DateTimeField("mis à jour le", default=timezone.now, db_index=True)
    # Maintained by referentiel.services.specialite_indexer: name, DCI, indications and laboratories.
    document_recherche = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = "spécialité"
        ordering = ["nom"]
        indexes = [
            GinIndex(fields=["document_recherche"], name="specialite_recherche_gin"),
            models.Index(fields=["nom"], name="specialite_nom"),
            # The published ones, counted from this index alone (with acces_specialite: the référentiel's size).
            models.Index(fields=["id"], name="specialite_publiee", condition=Q(publiee=True)),
        ]
        # Unique constraints rather than unique=True: no extra varchar_pattern_ops index that no LIKE query uses.
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="specialite_slug_unique",
                violation_error_message="Une autre fiche a déjà cette adresse.",
                violation_error_code="unique",
            ),
            models.UniqueConstraint(
                fields=["cis"],
                name="specialite_cis_unique",
                violation_error_message="Une autre spécialité porte déjà ce code CIS.",
                violation_error_code="unique",
            ),
        ]

    def __str__(self) -> str:
        return self.nom


class Composition(models.Model):
    # No index of its own: composition_unique starts with specialite_id and serves its lookups.
    specialite = models.ForeignKey(Specialite, on_delete=models.CASCADE, related_name="compositions", db_index=False)
    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="compositions")
    dosage = models.CharField(max_length=250, blank=True)
    reference_dosage = models.CharField("référence du dosage", max_length=250, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["specialite", "substance", "dosage"],
                name="composition_unique",
                violation_error_message="Cette substance figure déjà avec ce dosage dans la spécialité.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.substance} {self.dosage}".strip()


class ConditionPrescription(models.Model):
    """A CPD line as published in the BDPM (CIS_CPD_bdpm.txt)."""

    # No index of its own: cpd_unique starts with specialite_id and serves its lookups.
    specialite = models.ForeignKey(
        Specialite, on_delete=models.CASCADE, related_name="conditions_prescription", db_index=False
    )
    texte = models.CharField(max_length=500)

    class Meta:
        verbose_name = "condition de prescription et de délivrance"
        constraints = [models.UniqueConstraint(fields=["specialite", "texte"], name="cpd_unique")]

    def __str__(self) -> str:
        return self.texte


# A CPC still in draft or sent to the holder for comments is not public until it is published (R40): the
# statuses this condition matches are not public (selectors._acces_prive, the acces_public index).
TYPE_NON_PUBLIC_POSSIBLE = TypeAcces.CPC  # the only type of status that can be kept from the public
ETAPES_CPC_NON_PUBLIQUES = [EtapeCPC.BROUILLON, EtapeCPC.TRANSMIS_TITULAIRE]
ACCES_PRIVE = Q(type_acces=TYPE_NON_PUBLIC_POSSIBLE, etape_cpc__in=ETAPES_CPC_NON_PUBLIQUES)


class AccesDerogatoire(models.Model):
    """One derogatory status of a spécialité: AAC, AAP, CPC, or the historical ATUn, ATUc, RTU."""

    # Indexed by acces_specialite below (it starts with it).
    specialite = models.ForeignKey(Specialite, on_delete=models.CASCADE, related_name="acces", db_index=False)
    type_acces = models.CharField("type d'accès", max_length=4, choices=TypeAcces.choices)
    etat = models.CharField("état", max_length=16, choices=EtatAcces.choices, default=EtatAcces.EN_COURS)
    precedent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suivants",
        help_text="Statut antérieur auquel celui-ci succède (ex. ATU nominative → AAC).",
    )
    date_debut = models.DateField("date de début", null=True, blank=True)
    date_fin = models.DateField("date de fin", null=True, blank=True)
    date_prochain_renouvellement = models.DateField("prochain renouvellement", null=True, blank=True)
    conditions_utilisation = models.TextField("conditions d'utilisation", blank=True)
    # AAP (R37, R47)
    phase_aap = models.CharField("phase de l'AAP", max_length=8, choices=PhaseAAP.choices, blank=True)
    date_decision_has = models.DateField("date de décision de la HAS", null=True, blank=True)
    # AAC (R7, R23, R24)
    date_cessation = models.DateField(
        "date de cessation des AAC", null=True, blank=True, help_text="R24 : au plus 3 mois après l'AMM."
    )
    riph_commerciale = models.BooleanField("RIPH à des fins commerciales en cours", default=False)
    engagement_aap = models.BooleanField("engagement du laboratoire à déposer une AAP", default=False)
    date_premiere_aac = models.DateField("date de la première AAC", null=True, blank=True)
    date_limite_depot_aap = models.DateField(
        "date limite de dépôt de l'AAP", null=True, blank=True, help_text="R23 : 12 ou 18 mois, prolongeable."
    )
    # CPC (R38-R40)
    origine_signalement = models.CharField(
        "origine du signalement", max_length=32, choices=OrigineSignalement.choices, blank=True
    )
    etape_cpc = models.CharField("étape du CPC", max_length=24, choices=EtapeCPC.choices, blank=True)
    date_entree_vigueur_prevue = models.DateField("date d'entrée en vigueur prévue", null=True, blank=True)
    cree_le = models.DateTimeField(default=timezone.now)
    mis_a_jour_le = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "accès dérogatoire"
        verbose_name_plural = "accès dérogatoires"
        ordering = ["specialite", "-date_debut"]
        indexes = [
            models.Index(fields=["type_acces", "etat"], name="acces_type_etat"),
            # The statuses of a spécialité, with what tells a public one (R1, R40): whether a spécialité is in the
            # référentiel is read from this index alone (the list's count, 5,000 fiches: 9 -> 3 ms).
            models.Index(fields=["specialite", "type_acces", "etape_cpc"], name="acces_specialite"),
            # The public statuses alone (R1, R40), in spécialité order: the référentiel's count (the list without
            # criteria) merges it with specialite_publiee, both read from the indexes (5,000 fiches: 2.3 -> 1.5 ms).
            # The condition is selectors._acces_prive's, word for word, so that PostgreSQL knows the index answers it.
            models.Index(fields=["specialite"], name="acces_public", condition=~ACCES_PRIVE),
            # R24: the deadline tasks look for the AAC whose cessation date comes.
            models.Index(fields=["date_cessation"], name="acces_cessation", condition=Q(date_cessation__isnull=False)),
            models.Index(
                fields=["date_limite_depot_aap"],
                name="acces_limite_aap",
                condition=Q(date_limite_depot_aap__isnull=False),
            ),
            models.Index(fields=["date_fin"], name="acces_date_fin", condition=Q(etat="en_cours")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["specialite", "type_acces"],
                condition=Q(etat="en_cours"),
                name="acces_un_seul_en_cours_par_type",
                violation_error_message="Cette spécialité a déjà un accès de ce type en cours.",
            ),
            models.CheckConstraint(
                condition=Q(date_fin__isnull=True)
                | Q(date_debut__isnull=True)
                | Q(date_fin__gte=models.F("date_debut")),
                name="acces_dates_ordonnees",
                violation_error_message="La date de fin doit suivre la date de début.",
            ),
            models.CheckConstraint(
                condition=Q(type_acces__in=["AAP", "ATUc"]) | Q(phase_aap=""),
                name="acces_phase_aap_seulement_aap",
                violation_error_message="Seul un accès précoce a une phase pré- ou post-AMM.",
            ),
            models.CheckConstraint(
                condition=Q(type_acces="AAC") | Q(date_cessation__isnull=True),
                name="acces_cessation_seulement_aac",
                violation_error_message="Seul un AAC a une date de cessation (R24).",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_acces_display()} — {self.specialite}"


class ProlongationEngagementAAP(models.Model):
    """R23: an extension of the laboratory's AAP filing deadline, at most 6 months each."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="prolongations")
    duree_mois = models.PositiveSmallIntegerField("durée (mois)")
    motif = models.TextField()
    accordee_le = models.DateTimeField(default=timezone.now)
    accordee_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = "prolongation du délai de dépôt d'AAP"
        constraints = [
            models.CheckConstraint(
                condition=Q(duree_mois__gte=1) & Q(duree_mois__lte=6),
                name="prolongation_au_plus_6_mois",
                violation_error_message="Une prolongation dure de 1 à 6 mois au plus (R23).",
            )
        ]

    def __str__(self) -> str:
        return f"Prolongation de {self.duree_mois} mois — {self.acces}"


class Indication(models.Model):
    """A referenced indication of a derogatory status, with the critères d'octroi a prescriber attests (R11)."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="indications")
    libelle = models.TextField("indication")
    patients_eligibles = models.TextField("patients éligibles", blank=True)
    maladie_rare = models.BooleanField(
        "maladie rare", default=False, help_text="R23 : délai de 18 mois au lieu de 12."
    )
    restriction_aap = models.TextField(
        "restriction liée à une AAP",
        blank=True,
        help_text="R25-R26 : l'AAC est réservée aux patients non éligibles à l'AAP.",
    )
    ordre = models.PositiveSmallIntegerField(default=0)
    publiee_le = models.DateField("critères publiés le", null=True, blank=True)

    class Meta:
        ordering = ["acces", "ordre", "id"]

    def __str__(self) -> str:
        return self.libelle[:80]


class CritereOctroi(models.Model):
    """A short statement about the patient that a prescriber can attest yes or no (R11)."""

    indication = models.ForeignKey(Indication, on_delete=models.CASCADE, related_name="criteres")
    libelle = models.CharField("critère", max_length=500)
    ordre = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "critère d'octroi"
        verbose_name_plural = "critères d'octroi"
        ordering = ["indication", "ordre", "id"]

    def __str__(self) -> str:
        return self.libelle


def _fichier_prive_upload_to(instance, filename: str) -> str:
    # A random name: files of the laboratories (draft PUT, synthesis reports) are never served by the web server, and
    # the stored path reveals nothing of the uploader's file name.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"laboratoires/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class PUT(models.Model):
    """Protocole d'utilisation thérapeutique (PUT-SP for AAC/CPC, PUT-RD for AAP), by version (R31-R34)."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="puts")
    type_put = models.CharField("type de PUT", max_length=8, choices=TypePUT.choices)
    recueil_nominatif = models.BooleanField("avec recueil nominatif de données", default=False)
    periodicite_rapports_mois = models.PositiveSmallIntegerField(
        "périodicité des rapports (mois)", null=True, blank=True
    )
    crpv = models.CharField("CRPV en charge du suivi", max_length=200, blank=True)
    version = models.CharField(max_length=20, default="1")
    date_validation = models.DateField("date de validation", null=True, blank=True)
    est_proposition = models.BooleanField("proposition du laboratoire", default=False)
    # R32: the laboratory's proposal comes with its draft protocol; kept private (not a published Document).
    fichier = models.FileField("projet de PUT", upload_to=_fichier_prive_upload_to, max_length=300, blank=True)
    type_mime = models.CharField(max_length=100, blank=True)
    taille = models.PositiveIntegerField("taille (octets)", default=0)
    propose_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    propose_le = models.DateTimeField("proposé le", null=True, blank=True)

    class Meta:
        verbose_name = "PUT"
        verbose_name_plural = "PUT"
        ordering = ["acces", "-date_validation"]
        constraints = [
            models.CheckConstraint(
                condition=Q(periodicite_rapports_mois__isnull=True)
                | Q(periodicite_rapports_mois__gte=1, periodicite_rapports_mois__lte=60),
                name="put_periodicite_1_a_60_mois",
                violation_error_message="La périodicité des rapports se compte en mois, de 1 à 60 (R34).",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_put_display()} v{self.version}"


def _document_upload_to(instance, filename: str) -> str:
    return f"documents/{timezone.now():%Y/%m}/{filename}"


class Document(models.Model):
    """A file published on a fiche (RCP, PUT, résumé of a periodic report, decision, information letter)."""

    specialite = models.ForeignKey(Specialite, on_delete=models.CASCADE, related_name="documents")
    acces = models.ForeignKey(
        AccesDerogatoire, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    type_document = models.CharField("type", max_length=20, choices=TypeDocument.choices)
    titre = models.CharField(max_length=250)
    fichier = models.FileField(upload_to=_document_upload_to, max_length=300)
    type_mime = models.CharField(max_length=100, default="application/pdf")
    taille = models.PositiveIntegerField("taille (octets)", default=0)
    date_document = models.DateField("date", default=timezone.localdate)
    version = models.CharField(max_length=20, blank=True)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["specialite", "type_document", "-date_document"]

    def __str__(self) -> str:
        return self.titre


class RapportPeriodique(models.Model):
    """A periodic synthesis report due by the laboratory under a PUT (R34) and its validated résumé (R35)."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="rapports")
    periode_debut = models.DateField("début de la période")
    periode_fin = models.DateField("fin de la période")
    date_echeance = models.DateField("date d'échéance", db_index=True)
    statut = models.CharField(max_length=16, choices=StatutRapport.choices, default=StatutRapport.ATTENDU)
    date_reception = models.DateField("reçu le", null=True, blank=True)
    date_validation = models.DateField("validé le", null=True, blank=True)
    resume = models.TextField("résumé validé", blank=True)
    resume_publie_le = models.DateField("résumé publié le", null=True, blank=True)
    # R34: the report itself, submitted by the laboratory (or recorded by the ANSM); never public.
    fichier = models.FileField("rapport", upload_to=_fichier_prive_upload_to, max_length=300, blank=True)
    type_mime = models.CharField(max_length=100, blank=True)
    taille = models.PositiveIntegerField("taille (octets)", default=0)
    depose_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    depose_le = models.DateTimeField("déposé le", null=True, blank=True)

    class Meta:
        verbose_name = "rapport périodique de synthèse"
        ordering = ["acces", "-periode_fin"]
        constraints = [
            models.CheckConstraint(
                condition=Q(periode_fin__gte=models.F("periode_debut")),
                name="rapport_periode_ordonnee",
                violation_error_message="La fin de la période doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=Q(resume_publie_le__isnull=True) | (Q(statut="valide") & ~Q(resume="")),
                name="rapport_seul_resume_valide_publie",
                violation_error_message="Seul le résumé validé d'un rapport est publié (R35).",
            ),
        ]

    def __str__(self) -> str:
        return f"Rapport {self.periode_debut:%m/%Y}–{self.periode_fin:%m/%Y} — {self.acces}"


class HistoriqueFiche(models.Model):
    """Who changed what on a fiche, and when (shown as 'mis à jour le' and kept for the audit)."""

    specialite = models.ForeignKey(Specialite, on_delete=models.CASCADE, related_name="historique")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    le = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=200)
    objet = models.CharField(max_length=200, blank=True)
    avant = models.JSONField(default=dict, blank=True)
    apres = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "modification de fiche"
        ordering = ["-le"]
        indexes = [models.Index(fields=["specialite", "-le"], name="historique_fiche_date")]

    def __str__(self) -> str:
        return f"{self.le:%d/%m/%Y %H:%M} — {self.action}"


# --- Back-office and laboratory space (issue 5) --------------------------------------------------------------------


class Signalement(models.Model):
    """R39: a situation reported to the ANSM that may lead to a CPC, with who reported it."""

    origine = models.CharField("source", max_length=32, choices=OrigineSignalement.choices)
    organisation = models.CharField(
        "organisme", max_length=250, help_text="Par exemple : centre de référence des maladies rares du CHU de Lyon."
    )
    date_signalement = models.DateField("date du signalement", default=timezone.localdate)
    situation = models.TextField("situation décrite")
    specialite = models.ForeignKey(
        Specialite, on_delete=models.PROTECT, null=True, blank=True, related_name="signalements"
    )
    substance = models.ForeignKey(
        Substance, on_delete=models.PROTECT, null=True, blank=True, related_name="signalements"
    )
    cpc = models.ForeignKey(
        AccesDerogatoire,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signalements",
        verbose_name="CPC issu du signalement",
    )
    enregistre_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    enregistre_le = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "signalement"
        ordering = ["-date_signalement", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(specialite__isnull=False) | Q(substance__isnull=False),
                name="signalement_medicament_designe",
                violation_error_message="Un signalement désigne la spécialité ou la substance concernée (R39).",
            ),
        ]

    def __str__(self) -> str:
        return f"Signalement du {self.date_signalement:%d/%m/%Y} — {self.organisation}"


class RenouvellementCPC(models.Model):
    """R38: a CPC renewed for a new 3-year term; the row keeps the term it replaced."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="renouvellements_cpc")
    debut_precedent = models.DateField("début de la période précédente", null=True, blank=True)
    fin_precedente = models.DateField("fin de la période précédente", null=True, blank=True)
    debut = models.DateField("début de la nouvelle période")
    fin = models.DateField("fin de la nouvelle période")
    decide_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decide_le = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "renouvellement de CPC"
        verbose_name_plural = "renouvellements de CPC"
        ordering = ["acces", "-debut"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fin__gt=models.F("debut")),
                name="renouvellement_cpc_periode_ordonnee",
                violation_error_message="La nouvelle période d'un CPC finit après son début.",
            ),
        ]

    def __str__(self) -> str:
        return f"Renouvellement du {self.debut:%d/%m/%Y} au {self.fin:%d/%m/%Y} — {self.acces}"


class DemandeProlongation(models.Model):
    """R23: a laboratory asks the ANSM to extend its AAP filing deadline (at most 6 months, motivated)."""

    acces = models.ForeignKey(AccesDerogatoire, on_delete=models.CASCADE, related_name="demandes_prolongation")
    laboratoire = models.ForeignKey(Laboratoire, on_delete=models.PROTECT, related_name="demandes_prolongation")
    duree_mois = models.PositiveSmallIntegerField("durée demandée (mois)")
    motif = models.TextField()
    statut = models.CharField(
        max_length=12, choices=StatutDemandeProlongation.choices, default=StatutDemandeProlongation.DEPOSEE
    )
    demandee_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    demandee_le = models.DateTimeField("demandée le", default=timezone.now)
    traitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    traitee_le = models.DateTimeField("traitée le", null=True, blank=True)
    reponse = models.TextField("réponse de l'ANSM", blank=True)
    prolongation = models.OneToOneField(
        ProlongationEngagementAAP,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demande",
        verbose_name="prolongation accordée",
    )

    class Meta:
        verbose_name = "demande de prolongation du délai de dépôt d'AAP"
        verbose_name_plural = "demandes de prolongation du délai de dépôt d'AAP"
        ordering = ["-demandee_le", "-id"]
        indexes = [
            models.Index(fields=["demandee_le"], condition=Q(statut="deposee"), name="prolongation_a_traiter"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duree_mois__gte=1) & Q(duree_mois__lte=6),
                name="demande_prolongation_au_plus_6_mois",
                violation_error_message="Une prolongation dure de 1 à 6 mois au plus (R23).",
            ),
            models.UniqueConstraint(
                fields=["acces"],
                condition=Q(statut="deposee"),
                name="demande_prolongation_une_en_attente",
                violation_error_message="Une demande de prolongation est déjà en attente pour ce médicament.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="accordee") | Q(prolongation__isnull=False),
                name="demande_prolongation_accordee_liee",
                violation_error_message="Une demande accordée est liée à la prolongation enregistrée (R23).",
            ),
            models.CheckConstraint(
                condition=~Q(statut="refusee") | ~Q(reponse=""),
                name="demande_prolongation_refus_motive",
                violation_error_message="Un refus de prolongation est motivé.",
            ),
        ]

    def __str__(self) -> str:
        return f"Prolongation de {self.duree_mois} mois demandée — {self.acces}"


class DeclarationChangementTitulaire(models.Model):
    """R29: a laboratory reports a change of rights holder (or of exploitant); the ANSM updates the product."""

    specialite = models.ForeignKey(Specialite, on_delete=models.CASCADE, related_name="declarations_titulaire")
    laboratoire = models.ForeignKey(
        Laboratoire, on_delete=models.PROTECT, related_name="declarations_titulaire", verbose_name="déclarant"
    )
    nouveau_titulaire = models.CharField("nouveau titulaire des droits", max_length=200, blank=True)
    nouvel_exploitant = models.CharField("nouvel exploitant", max_length=200, blank=True)
    sans_exploitant = models.BooleanField(
        "plus d'exploitant", default=False, help_text="R29 : un exploitant est recommandé, non obligatoire."
    )
    date_effet = models.DateField("date d'effet")
    commentaire = models.TextField(blank=True)
    statut = models.CharField(
        max_length=12, choices=StatutDeclarationTitulaire.choices, default=StatutDeclarationTitulaire.DEPOSEE
    )
    declaree_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declaree_le = models.DateTimeField("déclarée le", default=timezone.now)
    traitee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    traitee_le = models.DateTimeField("traitée le", null=True, blank=True)
    reponse = models.TextField("réponse de l'ANSM", blank=True)

    class Meta:
        verbose_name = "déclaration de changement de titulaire"
        verbose_name_plural = "déclarations de changement de titulaire"
        ordering = ["-declaree_le", "-id"]
        indexes = [
            models.Index(fields=["declaree_le"], condition=Q(statut="deposee"), name="declaration_a_traiter"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(nouveau_titulaire="") | ~Q(nouvel_exploitant="") | Q(sans_exploitant=True),
                name="declaration_titulaire_changement",
                violation_error_message="Indiquez le nouveau titulaire ou le nouvel exploitant (R29).",
            ),
            models.CheckConstraint(
                condition=Q(nouvel_exploitant="") | Q(sans_exploitant=False),
                name="declaration_exploitant_coherent",
                violation_error_message="Indiquez un nouvel exploitant ou l'absence d'exploitant, pas les deux.",
            ),
            models.UniqueConstraint(
                fields=["specialite"],
                condition=Q(statut="deposee"),
                name="declaration_titulaire_une_en_attente",
                violation_error_message="Un changement de titulaire est déjà en attente pour cette spécialité.",
            ),
            models.CheckConstraint(
                condition=~Q(statut="rejetee") | ~Q(reponse=""),
                name="declaration_titulaire_rejet_motive",
                violation_error_message="Un rejet de déclaration est motivé.",
            ),
        ]

    def __str__(self) -> str:
        return f"Changement de titulaire déclaré le {self.declaree_le:%d/%m/%Y} — {self.specialite}"
