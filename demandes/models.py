"""AAC requests (e-Saturne): the request for one named patient, its attestations, the ANSM's questions, the
decision and its appeal, the attachments, the journal of every transition and the log of patient-data reads.

Patient data is minimised by design (R43): initials, age, sex, weight and territory of care; never a name, a
birth date or a national health number.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from comptes.enums import Role, Territoire

from .enums import (
    STATUTS_CLOS,
    STATUTS_DECIDES,
    STATUTS_INSTRUCTION,
    CanalAcces,
    DestinataireComplement,
    MotifRefus,
    PieceLaboratoire,
    SensDecision,
    Sexe,
    Situation,
    StatutDemande,
    StatutRecours,
    TypeMedicament,
    UniteAge,
    Urgence,
)
from .workflow import est_permise

# R43: initials only, e.g. "JD", "J.D.", "J.-D.", "J.-D.M." (2 to 5 letters, dots and hyphens allowed).
REGEX_INITIALES = r"^[A-Z]\.?(-?[A-Z]\.?){1,4}$"
DUREE_MAX_JOURS = 365  # R17, R20: one year at most
INDEX_A_PSEUDONYMISER = "demande_a_pseudonymiser"


class DemandeAAC(models.Model):
    """A request for an autorisation d'accès compassionnel for one named patient (R10-R15, R43-R46)."""

    reference = models.CharField("référence", max_length=20, unique=True, editable=False)
    statut = models.CharField(max_length=24, choices=StatutDemande.choices, default=StatutDemande.BROUILLON)
    # Optimistic concurrency: bumped by every write; a form posts the version it was built from (two tabs, two
    # pharmacists) and a mismatch is refused instead of silently overwriting the other person's work.
    version = models.PositiveIntegerField(default=1)
    cle_idempotence = models.CharField("clé d'idempotence", max_length=64, null=True, blank=True, editable=False)

    # R10: the prescriber / pharmacist pair.
    prescripteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="demandes_prescrites"
    )
    etablissement = models.ForeignKey("comptes.Etablissement", on_delete=models.PROTECT, related_name="demandes")
    pui = models.ForeignKey(
        "comptes.PUI", on_delete=models.PROTECT, null=True, blank=True, related_name="demandes", verbose_name="PUI"
    )
    pharmacien = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="demandes_pharmacien",
        verbose_name="pharmacien désigné",
    )
    evaluateur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="demandes_evaluees",
        verbose_name="évaluateur assigné",
    )

    # R43: the patient, minimised; R9: the territory of care.
    patient_initiales = models.CharField("initiales du patient", max_length=12, blank=True)
    patient_age = models.PositiveSmallIntegerField("âge", null=True, blank=True)
    patient_age_unite = models.CharField("unité de l'âge", max_length=4, choices=UniteAge.choices, default="ans")
    patient_sexe = models.CharField("sexe", max_length=1, choices=Sexe.choices, blank=True)
    patient_poids_kg = models.DecimalField("poids (kg)", max_digits=5, decimal_places=1, null=True, blank=True)
    territoire = models.CharField(
        "territoire de prise en charge", max_length=32, choices=Territoire.choices, default=Territoire.METROPOLE
    )
    situation = models.CharField(
        "cadre de la demande", max_length=32, choices=Situation.choices, default=Situation.SOIN
    )

    # R11-R12: the medicine.
    type_medicament = models.CharField(
        "type de demande", max_length=32, choices=TypeMedicament.choices, default=TypeMedicament.REFERENCE_INDICATION
    )
    specialite = models.ForeignKey(
        "referentiel.Specialite", on_delete=models.PROTECT, null=True, blank=True, related_name="demandes_aac"
    )
    indication = models.ForeignKey(
        "referentiel.Indication", on_delete=models.PROTECT, null=True, blank=True, related_name="demandes_aac"
    )
    indication_libre = models.TextField("indication revendiquée", blank=True)
    medicament_nom = models.CharField("nom ou nom de code du médicament", max_length=250, blank=True)
    medicament_dci = models.CharField("DCI", max_length=250, blank=True)
    medicament_dosage = models.CharField("dosage", max_length=120, blank=True)
    medicament_forme = models.CharField("forme pharmaceutique", max_length=120, blank=True)
    medicament_laboratoire = models.CharField("laboratoire", max_length=200, blank=True)
    justification = models.TextField(blank=True)
    # R25: the prescriber states the patient is not eligible to the AAP that now covers the indication.
    patient_non_eligible_aap = models.BooleanField("patient non éligible à l'accès précoce", default=False)

    # R13: the prescriber's commitments.
    engagement_information_patient = models.BooleanField("patient informé", default=False)
    medecin_traitant_informe = models.BooleanField("médecin traitant informé", default=False)
    engagement_surveillance = models.BooleanField("surveillance du patient", default=False)
    engagement_put_pharmacovigilance = models.BooleanField("respect du PUT et de la pharmacovigilance", default=False)
    engagement_reponse_ansm = models.BooleanField("réponse aux demandes de l'ANSM", default=False)

    # R43: treatment.
    posologie = models.TextField("posologie prévue", blank=True)
    duree_traitement_jours = models.PositiveSmallIntegerField("durée de traitement demandée (jours)", null=True)
    recherches_commerciales = models.TextField("recherches commerciales en cours (références)", blank=True)
    traitement_differable = models.BooleanField("le traitement peut être différé", null=True, blank=True)
    urgence = models.CharField(max_length=8, choices=Urgence.choices, default=Urgence.NORMALE)
    astreinte_contactee = models.BooleanField("astreinte de l'ANSM contactée", default=False)

    # R44: filed out of hours; a compliant request proceeds and the ANSM confirms it afterwards.
    hors_heures = models.BooleanField("soumise hors heures ouvrées", default=False)
    regularisation_a_posteriori = models.BooleanField("à régulariser a posteriori", default=False)
    regularisee_le = models.DateTimeField("régularisée le", null=True, blank=True)

    # R20, R46: a renewal is a new request linked to the previous one.
    demande_initiale = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renouvellements"
    )
    donnees_cliniques_periode = models.TextField("données cliniques de la période écoulée", blank=True)
    declaration_poursuite = models.BooleanField("poursuite du traitement justifiée", default=False)

    cree_le = models.DateTimeField("créée le", default=timezone.now)
    modifiee_le = models.DateTimeField("modifiée le", default=timezone.now)
    transmise_le = models.DateTimeField("transmise au pharmacien le", null=True, blank=True)
    soumise_le = models.DateTimeField("soumise à l'ANSM le", null=True, blank=True)
    decidee_le = models.DateTimeField("décidée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande d'AAC"
        verbose_name_plural = "demandes d'AAC"
        ordering = ["-modifiee_le", "-id"]
        indexes = [
            # "Mes demandes": a prescriber's requests, most recent activity first.
            models.Index(F("prescripteur"), F("modifiee_le").desc(), F("id").desc(), name="demande_prescripteur"),
            # The PUI inbox: requests transmitted to a PUI, by state (tab) then activity.
            models.Index(
                F("pui"),
                F("modifiee_le").desc(),
                F("id").desc(),
                name="demande_pui",
                condition=Q(transmise_le__isnull=False),
            ),
            models.Index(
                F("pui"),
                F("statut"),
                F("modifiee_le").desc(),
                name="demande_pui_statut",
                condition=Q(transmise_le__isnull=False),
            ),
            # The pharmacist named on the request sees it even if they moved to another PUI.
            models.Index(fields=["pharmacien"], name="demande_pharmacien", condition=Q(pharmacien__isnull=False)),
            # The ANSM review queue (issue 5): requests waiting for a decision, oldest first.
            models.Index(
                fields=["statut", "soumise_le"],
                name="demande_instruction",
                condition=Q(statut__in=sorted(STATUTS_INSTRUCTION)),
            ),
            models.Index(
                fields=["soumise_le"], name="demande_regularisation", condition=Q(regularisation_a_posteriori=True)
            ),
            # Statistics (demandes.statistiques): requests submitted, and decided, within a period.
            models.Index(fields=["soumise_le"], name="demande_soumise_le", condition=Q(soumise_le__isnull=False)),
            models.Index(fields=["decidee_le"], name="demande_decidee_le", condition=Q(decidee_le__isnull=False)),
            # Retention (comptes.retention): the closed requests still holding the patient's initials, oldest activity
            # first; a pseudonymised row leaves the index.
            models.Index(
                fields=["modifiee_le", "id"],
                name=INDEX_A_PSEUDONYMISER,
                condition=Q(statut__in=STATUTS_CLOS) & ~Q(patient_initiales=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["prescripteur", "cle_idempotence"],
                condition=Q(cle_idempotence__isnull=False),
                name="demande_idempotence_unique",
                violation_error_message="Cette demande a déjà été créée (double envoi du formulaire).",
            ),
            models.CheckConstraint(
                condition=Q(duree_traitement_jours__isnull=True)
                | Q(duree_traitement_jours__gte=1, duree_traitement_jours__lte=DUREE_MAX_JOURS),
                name="demande_duree_1_jour_1_an",
                violation_error_message="La durée de traitement va de 1 jour à 1 an (365 jours) au plus (R17).",
            ),
            models.CheckConstraint(
                condition=Q(patient_initiales="") | Q(patient_initiales__regex=REGEX_INITIALES),
                name="demande_initiales_format",
                violation_error_message="Seules les initiales du patient sont enregistrées (R43).",
            ),
            models.CheckConstraint(
                condition=Q(patient_poids_kg__isnull=True) | Q(patient_poids_kg__gt=0, patient_poids_kg__lte=400),
                name="demande_poids_plausible",
                violation_error_message="Le poids du patient doit être compris entre 0 et 400 kg.",
            ),
            models.CheckConstraint(
                condition=Q(patient_age__isnull=True)
                | Q(patient_age_unite=UniteAge.ANS, patient_age__lte=130)
                | Q(patient_age_unite=UniteAge.MOIS, patient_age__lte=36),
                name="demande_age_plausible",
                violation_error_message="L'âge doit être au plus de 130 ans, ou de 36 mois s'il est donné en mois.",
            ),
            models.CheckConstraint(
                condition=Q(type_medicament=TypeMedicament.NON_REFERENCE, specialite__isnull=True, indication=None)
                | (~Q(type_medicament=TypeMedicament.NON_REFERENCE) & Q(specialite__isnull=False)),
                name="demande_medicament_coherent",
                violation_error_message=(
                    "Une spécialité référencée est désignée dans le référentiel ; un médicament non référencé est "
                    "décrit sans spécialité (R12)."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(type_medicament=TypeMedicament.REFERENCE_HORS_INDICATION) | Q(indication__isnull=True),
                name="demande_hors_indication_sans_indication",
                violation_error_message="Une demande hors indication référencée ne désigne pas d'indication (R12).",
            ),
            models.CheckConstraint(
                condition=~Q(statut__in=sorted(STATUTS_INSTRUCTION | STATUTS_DECIDES)) | Q(soumise_le__isnull=False),
                name="demande_soumise_datee",
                violation_error_message="Une demande instruite ou décidée a une date de soumission.",
            ),
            models.CheckConstraint(
                condition=Q(regularisee_le__isnull=True) | Q(regularisation_a_posteriori=True),
                name="demande_regularisation_coherente",
                violation_error_message="Seule une demande à régulariser a posteriori peut être régularisée (R44).",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="demande_version_positive",
                violation_error_message="Version invalide.",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def designation_medicament(self) -> str:
        """The medicine as the prescriber named it: the référentiel's spécialité, or the free description."""
        if self.specialite_id:
            return self.specialite.nom
        return " ".join(p for p in (self.medicament_nom, self.medicament_dosage, self.medicament_forme) if p)

    @property
    def age_affiche(self) -> str:
        return "" if self.patient_age is None else f"{self.patient_age} {self.get_patient_age_unite_display()}"

    @property
    def indication_affichee(self) -> str:
        return self.indication.libelle if self.indication_id else self.indication_libre


class AttestationCritere(models.Model):
    """R11: the prescriber's yes/no on one critère d'octroi of the referenced indication."""

    demande = models.ForeignKey(DemandeAAC, on_delete=models.CASCADE, related_name="attestations")
    critere = models.ForeignKey("referentiel.CritereOctroi", on_delete=models.PROTECT, related_name="attestations")
    rempli = models.BooleanField("critère rempli")

    class Meta:
        verbose_name = "attestation de critère"
        ordering = ["critere__ordre", "critere_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["demande", "critere"],
                name="attestation_unique_par_critere",
                violation_error_message="Ce critère est déjà attesté pour cette demande.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.critere} : {'oui' if self.rempli else 'non'}"


class Complement(models.Model):
    """A question of the ANSM during the evaluation, with an answer deadline.

    Addressed to the PUI (R14: the pharmacist collects the information and sends it back) or, from issue 5, to
    the laboratory (R16: the pieces to tick in `pieces_demandees`). Issue 6 reminds at half the delay, from
    `demande_le` and `date_limite`, while `repondu_le` is empty.
    """

    demande = models.ForeignKey(DemandeAAC, on_delete=models.CASCADE, related_name="complements")
    destinataire = models.CharField(max_length=16, choices=DestinataireComplement.choices)
    laboratoire = models.ForeignKey(
        "referentiel.Laboratoire", on_delete=models.PROTECT, null=True, blank=True, related_name="complements_aac"
    )
    question = models.TextField()
    pieces_demandees = models.JSONField("pièces demandées", default=list, blank=True)
    date_limite = models.DateField("date limite de réponse")
    demande_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    demande_le = models.DateTimeField(default=timezone.now)
    reponse = models.TextField("réponse", blank=True)
    repondu_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    repondu_le = models.DateTimeField("répondu le", null=True, blank=True)

    class Meta:
        verbose_name = "demande de complément"
        ordering = ["demande_le", "id"]
        indexes = [
            models.Index(fields=["date_limite"], name="complement_en_attente", condition=Q(repondu_le__isnull=True)),
            # The laboratory space: the information requests addressed to one laboratory, newest first (R16).
            models.Index(
                F("laboratoire"),
                F("demande_le").desc(),
                name="complement_laboratoire",
                condition=Q(laboratoire__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["demande", "destinataire"],
                condition=Q(repondu_le__isnull=True),
                name="complement_un_seul_en_attente",
                violation_error_message="Une question est déjà en attente de réponse pour cette demande.",
            ),
            models.CheckConstraint(
                condition=Q(repondu_le__isnull=True, repondu_par__isnull=True)
                | (Q(repondu_le__isnull=False) & ~Q(reponse="")),
                name="complement_reponse_complete",
                violation_error_message="Une réponse enregistrée a un texte.",
            ),
            models.CheckConstraint(
                condition=~Q(destinataire=DestinataireComplement.LABORATOIRE) | Q(laboratoire__isnull=False),
                name="complement_laboratoire_designe",
                violation_error_message="Une demande d'information au laboratoire désigne le laboratoire (R16).",
            ),
            models.CheckConstraint(
                condition=Q(destinataire=DestinataireComplement.LABORATOIRE) & ~Q(pieces_demandees=[])
                | ~Q(destinataire=DestinataireComplement.LABORATOIRE) & Q(pieces_demandees=[]),
                name="complement_pieces_laboratoire",
                violation_error_message=(
                    "Une demande d'information au laboratoire précise les pièces demandées ; une question à la PUI "
                    "n'en comporte pas (R16)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Complément du {self.demande_le:%d/%m/%Y} — {self.demande}"

    @property
    def en_attente(self) -> bool:
        return self.repondu_le is None

    @property
    def attend_reponse_laboratoire(self) -> bool:
        """R16: unanswered, on a request the laboratory may still answer (the workflow table's
        `repondre_laboratoire`, which its service checks too). Reads `demande.statut`: select it with the row."""
        return self.en_attente and est_permise(
            "repondre_laboratoire", statut=self.demande.statut, role=Role.LABORATOIRE
        )

    @property
    def pieces_demandees_libelles(self) -> list[str]:
        """The pieces asked of the laboratory (R16), as the évaluateur ticked them, in French."""
        return [PieceLaboratoire(p).label for p in self.pieces_demandees if p in PieceLaboratoire.values]


def _decision_upload_to(instance, filename: str) -> str:
    return f"decisions/{instance.date_decision:%Y}/{filename}"


class Decision(models.Model):
    """The ANSM's decision on a request (R15-R19, R28, R45): one per request, with its PDF."""

    demande = models.OneToOneField(DemandeAAC, on_delete=models.PROTECT, related_name="decision")
    sens = models.CharField(max_length=8, choices=SensDecision.choices)
    reference = models.CharField("référence de la décision", max_length=20, unique=True)
    numero_aac = models.CharField("numéro d'AAC", max_length=20, null=True, blank=True, unique=True)
    immediate = models.BooleanField("décision immédiate", default=False)
    date_decision = models.DateTimeField("date de la décision", default=timezone.now)
    decidee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Grant (R17, R28, R45).
    duree_jours = models.PositiveSmallIntegerField("durée de traitement (jours)", null=True, blank=True)
    date_debut = models.DateField("début du traitement", null=True, blank=True)
    date_fin_traitement = models.DateField("fin du traitement", null=True, blank=True)
    laboratoire = models.ForeignKey(
        "referentiel.Laboratoire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions_aac",
        verbose_name="laboratoire auprès duquel commander",
    )
    reserve_hospitalier = models.BooleanField("réservé à l'usage hospitalier", default=True)
    restriction_prescripteurs = models.CharField("restriction de prescription", max_length=500, blank=True)
    retrocession = models.BooleanField("inscrit sur la liste de rétrocession", default=False)
    # Refusal (R18).
    motif_refus = models.CharField("motif du refus", max_length=32, choices=MotifRefus.choices, blank=True)
    motif_refus_texte = models.TextField("précisions sur le motif", blank=True)
    commentaire = models.TextField(blank=True)
    fichier = models.FileField("décision (PDF)", upload_to=_decision_upload_to, max_length=300, blank=True)
    notifiee_le = models.DateTimeField("notifiée le", null=True, blank=True)
    date_limite_recours = models.DateField("date limite de recours", null=True, blank=True)

    class Meta:
        verbose_name = "décision"
        ordering = ["-date_decision"]
        indexes = [
            # Issue 6: the end-of-treatment scan reads only grants, by end date.
            models.Index(
                fields=["date_fin_traitement"], name="decision_fin_traitement", condition=Q(sens=SensDecision.OCTROI)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    sens=SensDecision.OCTROI,
                    numero_aac__isnull=False,
                    laboratoire__isnull=False,
                    date_fin_traitement__isnull=False,
                    duree_jours__gte=1,
                    duree_jours__lte=DUREE_MAX_JOURS,
                    motif_refus="",
                )
                | Q(sens=SensDecision.REFUS, numero_aac__isnull=True, duree_jours__isnull=True) & ~Q(motif_refus=""),
                name="decision_octroi_ou_refus_complet",
                violation_error_message=(
                    "Un octroi porte un numéro d'AAC, une durée de 1 jour à 1 an et le laboratoire (R17) ; "
                    "un refus porte un motif (R18)."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(motif_refus=MotifRefus.AUTRE) | ~Q(motif_refus_texte=""),
                name="decision_motif_autre_precise",
                violation_error_message="Précisez le motif du refus (R18).",
            ),
            models.CheckConstraint(
                condition=~Q(sens=SensDecision.OCTROI) | ~Q(reserve_hospitalier=F("retrocession")),
                name="decision_cpd_hospitalier_ou_retrocession",
                violation_error_message=(
                    "Un médicament en AAC est soit réservé à l'usage hospitalier, soit inscrit sur la liste de "
                    "rétrocession (R28)."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.numero_aac or self.reference

    @property
    def est_octroi(self) -> bool:
        return self.sens == SensDecision.OCTROI


class Recours(models.Model):
    """R19: a recours gracieux to the ANSM director general, within 2 months of the notification."""

    demande = models.ForeignKey(DemandeAAC, on_delete=models.PROTECT, related_name="recours")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="recours")
    motif = models.TextField("motifs du recours")
    depose_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    depose_le = models.DateTimeField("déposé le", default=timezone.now)
    statut = models.CharField(max_length=12, choices=StatutRecours.choices, default=StatutRecours.DEPOSE)
    reponse = models.TextField("réponse", blank=True)
    repondu_le = models.DateTimeField(null=True, blank=True)
    statue_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="statué par",
    )

    class Meta:
        verbose_name = "recours gracieux"
        verbose_name_plural = "recours gracieux"
        ordering = ["-depose_le"]
        indexes = [
            # The review queue's appeals tab: those waiting for the ANSM's answer.
            models.Index(fields=["depose_le"], name="recours_a_statuer", condition=Q(statut=StatutRecours.DEPOSE)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(statut=StatutRecours.DEPOSE, repondu_le__isnull=True)
                | ~Q(statut=StatutRecours.DEPOSE) & Q(repondu_le__isnull=False) & ~Q(reponse=""),
                name="recours_reponse_motivee",
                violation_error_message="La réponse à un recours gracieux est datée et motivée (R19).",
            ),
        ]

    def __str__(self) -> str:
        return f"Recours sur {self.decision}"


class JournalDemande(models.Model):
    """One row per transition of a request: the timeline users see and the audit trail (never edited)."""

    demande = models.ForeignKey(DemandeAAC, on_delete=models.PROTECT, related_name="journal")
    transition = models.CharField(max_length=40)
    statut_avant = models.CharField(max_length=24, choices=StatutDemande.choices, blank=True)
    statut_apres = models.CharField(max_length=24, choices=StatutDemande.choices)
    acteur = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField("rôle", max_length=20)
    le = models.DateTimeField(default=timezone.now)
    commentaire = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "événement du journal"
        verbose_name_plural = "journal des demandes"
        ordering = ["le", "id"]
        indexes = [models.Index(fields=["demande", "le", "id"], name="journal_demande_date")]

    def __str__(self) -> str:
        return f"{self.demande} — {self.transition} ({self.le:%d/%m/%Y %H:%M})"

    @property
    def libelle(self) -> str:
        """The action as the timeline words it (the workflow table's label)."""
        from .workflow import PAR_NOM

        if self.transition == "creer":
            return "Création du brouillon"
        return PAR_NOM[self.transition].libelle if self.transition in PAR_NOM else self.transition


class AccesDonneesPatient(models.Model):
    """Every read of a request's patient data: who, when, which request, through which channel."""

    demande = models.ForeignKey(DemandeAAC, on_delete=models.PROTECT, related_name="acces_donnees")
    utilisateur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    le = models.DateTimeField(default=timezone.now)
    canal = models.CharField(max_length=8, choices=CanalAcces.choices)

    class Meta:
        verbose_name = "accès aux données du patient"
        verbose_name_plural = "accès aux données des patients"
        ordering = ["-le"]
        indexes = [
            models.Index(fields=["demande", "-le"], name="acces_patient_demande"),
            models.Index(fields=["utilisateur", "-le"], name="acces_patient_utilisateur"),
        ]

    def __str__(self) -> str:
        return f"{self.utilisateur} — {self.demande} ({self.le:%d/%m/%Y %H:%M})"


def _piece_upload_to(instance, filename: str) -> str:
    # A random name: the stored path reveals neither the patient nor the original file name.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"demandes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class PieceJointe(models.Model):
    """A file attached to a request, checked by content and size, served only through a permission check."""

    demande = models.ForeignKey(DemandeAAC, on_delete=models.PROTECT, related_name="pieces")
    complement = models.ForeignKey(Complement, on_delete=models.PROTECT, null=True, blank=True, related_name="pieces")
    fichier = models.FileField(upload_to=_piece_upload_to, max_length=300)
    nom = models.CharField("nom du fichier", max_length=200)
    type_mime = models.CharField(max_length=100)
    taille = models.PositiveIntegerField("taille (octets)")
    empreinte = models.CharField("empreinte SHA-256", max_length=64)
    deposee_par = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    deposee_le = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "pièce jointe"
        ordering = ["deposee_le", "id"]

    def __str__(self) -> str:
        return self.nom
