"""Input and output serializers of the requests API. Inputs parse and validate fields (French 400s); the services
decide the rules; outputs never show patient data in lists."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from comptes.models import PUI, Utilisateur
from referentiel.models import Indication, Laboratoire, Specialite

from .. import selectors
from ..enums import MotifRefus
from ..models import DUREE_MAX_JOURS, AttestationCritere, Complement, Decision, DemandeAAC, JournalDemande
from ..validators import initiales_normaliser, valider_initiales

# --- Outputs -------------------------------------------------------------------------------------------------


class DemandeListeSerializer(serializers.ModelSerializer):
    """A list row: no patient data (lists are not logged as patient-data reads)."""

    statut_libelle = serializers.CharField(source="get_statut_display", read_only=True)
    medicament = serializers.CharField(source="designation_medicament", read_only=True)
    prescripteur = serializers.CharField(source="prescripteur.nom_complet", read_only=True)

    class Meta:
        model = DemandeAAC
        fields = [
            "reference",
            "statut",
            "statut_libelle",
            "urgence",
            "medicament",
            "prescripteur",
            "cree_le",
            "modifiee_le",
            "soumise_le",
            "regularisation_a_posteriori",
        ]


class AttestationSerializer(serializers.ModelSerializer):
    libelle = serializers.CharField(source="critere.libelle", read_only=True)

    class Meta:
        model = AttestationCritere
        fields = ["critere", "libelle", "rempli"]


class ComplementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Complement
        fields = ["id", "destinataire", "question", "date_limite", "demande_le", "reponse", "repondu_le"]


class DecisionSerializer(serializers.ModelSerializer):
    laboratoire = serializers.CharField(source="laboratoire.nom", read_only=True, default=None, allow_null=True)
    motif_refus_libelle = serializers.CharField(source="get_motif_refus_display", read_only=True)

    class Meta:
        model = Decision
        fields = [
            "sens",
            "reference",
            "numero_aac",
            "immediate",
            "date_decision",
            "duree_jours",
            "date_debut",
            "date_fin_traitement",
            "laboratoire",
            "reserve_hospitalier",
            "retrocession",
            "restriction_prescripteurs",
            "motif_refus",
            "motif_refus_libelle",
            "motif_refus_texte",
            "notifiee_le",
            "date_limite_recours",
        ]


class JournalSerializer(serializers.ModelSerializer):
    # None for the system's own steps (the immediate grant of R15, the end of treatment).
    acteur = serializers.CharField(source="acteur.nom_complet", read_only=True, default=None, allow_null=True)
    libelle = serializers.CharField(read_only=True)
    # Plain strings: the state enum is already described once by DemandeSerializer.statut.
    statut_avant = serializers.CharField(read_only=True)
    statut_apres = serializers.CharField(read_only=True)

    class Meta:
        model = JournalDemande
        fields = ["le", "transition", "libelle", "statut_avant", "statut_apres", "acteur", "role", "commentaire"]


class DemandeSerializer(serializers.ModelSerializer):
    """A request in full, patient data included: reading it is logged (AccesDonneesPatient, canal api)."""

    statut_libelle = serializers.CharField(source="get_statut_display", read_only=True)
    medicament = serializers.CharField(source="designation_medicament", read_only=True)
    prescripteur = serializers.CharField(source="prescripteur.nom_complet", read_only=True)
    etablissement = serializers.CharField(source="etablissement.nom", read_only=True)
    demande_initiale = serializers.SlugRelatedField(slug_field="reference", read_only=True, allow_null=True)
    attestations = AttestationSerializer(many=True, read_only=True)
    complements = ComplementSerializer(many=True, read_only=True)
    journal = JournalSerializer(many=True, read_only=True)
    decision = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = DemandeAAC
        fields = [
            "reference",
            "version",
            "statut",
            "statut_libelle",
            "prescripteur",
            "etablissement",
            "pui",
            "pharmacien",
            "patient_initiales",
            "patient_age",
            "patient_age_unite",
            "patient_sexe",
            "patient_poids_kg",
            "territoire",
            "situation",
            "type_medicament",
            "specialite",
            "indication",
            "medicament",
            "indication_libre",
            "medicament_nom",
            "medicament_dci",
            "medicament_dosage",
            "medicament_forme",
            "medicament_laboratoire",
            "justification",
            "patient_non_eligible_aap",
            "attestations",
            "engagement_information_patient",
            "medecin_traitant_informe",
            "engagement_surveillance",
            "engagement_put_pharmacovigilance",
            "engagement_reponse_ansm",
            "posologie",
            "duree_traitement_jours",
            "recherches_commerciales",
            "traitement_differable",
            "urgence",
            "astreinte_contactee",
            "hors_heures",
            "regularisation_a_posteriori",
            "regularisee_le",
            "demande_initiale",
            "donnees_cliniques_periode",
            "declaration_poursuite",
            "cree_le",
            "modifiee_le",
            "transmise_le",
            "soumise_le",
            "decidee_le",
            "complements",
            "decision",
            "journal",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, demande):
        decision = selectors.decision_de(demande)
        return DecisionSerializer(decision).data if decision else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, demande) -> list[str]:
        """The workflow actions the caller may take now (the same list as the page's buttons)."""
        return [t.nom for t in selectors.actions_disponibles(self.context["request"].user, demande)]


# --- Inputs --------------------------------------------------------------------------------------------------


class AttestationEntreeSerializer(serializers.Serializer):
    critere = serializers.IntegerField()
    rempli = serializers.BooleanField()


class DemandeEcritureSerializer(serializers.ModelSerializer):
    """The fields a prescriber (or, for some, a pharmacist) writes on a draft; the service checks who may write
    what and the rules."""

    specialite = serializers.PrimaryKeyRelatedField(queryset=Specialite.objects.all(), required=False, allow_null=True)
    indication = serializers.PrimaryKeyRelatedField(queryset=Indication.objects.all(), required=False, allow_null=True)
    pui = serializers.PrimaryKeyRelatedField(queryset=PUI.objects.all(), required=False, allow_null=True)
    pharmacien = serializers.PrimaryKeyRelatedField(
        queryset=Utilisateur.objects.filter(role="pharmacien"), required=False, allow_null=True
    )
    patient_initiales = serializers.CharField(required=False, allow_blank=True, max_length=12)
    duree_traitement_jours = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=DUREE_MAX_JOURS,
        error_messages={
            "max_value": "La durée de traitement est d'au plus 1 an (365 jours) (R17).",
            "min_value": "La durée de traitement est d'au moins 1 jour (R17).",
        },
    )
    attestations = AttestationEntreeSerializer(many=True, required=False)

    class Meta:
        model = DemandeAAC
        fields = [
            "type_medicament",
            "specialite",
            "indication",
            "indication_libre",
            "medicament_nom",
            "medicament_dci",
            "medicament_dosage",
            "medicament_forme",
            "medicament_laboratoire",
            "justification",
            "patient_non_eligible_aap",
            "attestations",
            "patient_initiales",
            "patient_age",
            "patient_age_unite",
            "patient_sexe",
            "patient_poids_kg",
            "territoire",
            "situation",
            "engagement_information_patient",
            "medecin_traitant_informe",
            "engagement_surveillance",
            "engagement_put_pharmacovigilance",
            "engagement_reponse_ansm",
            "posologie",
            "duree_traitement_jours",
            "recherches_commerciales",
            "traitement_differable",
            "urgence",
            "astreinte_contactee",
            "pui",
            "pharmacien",
            "donnees_cliniques_periode",
            "declaration_poursuite",
        ]

    def validate_patient_initiales(self, valeur):
        if valeur:
            valeur = initiales_normaliser(valeur)
            valider_initiales(valeur)
        return valeur

    def donnees(self) -> tuple[dict, dict[int, bool] | None]:
        donnees = dict(self.validated_data)
        attestations = donnees.pop("attestations", None)
        if attestations is not None:
            attestations = {a["critere"]: a["rempli"] for a in attestations}
        return donnees, attestations


class ModificationSerializer(DemandeEcritureSerializer):
    version = serializers.IntegerField(min_value=1)

    class Meta(DemandeEcritureSerializer.Meta):
        fields = [*DemandeEcritureSerializer.Meta.fields, "version"]

    def donnees(self):
        donnees, attestations = super().donnees()
        donnees.pop("version", None)
        return donnees, attestations


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="La version de la demande sur laquelle porte l'action (409 si elle a changé)."
    )


class CommentaireSerializer(VersionSerializer):
    commentaire = serializers.CharField(required=False, allow_blank=True, default="")


class RenvoiSerializer(VersionSerializer):
    commentaire = serializers.CharField()


class ComplementDemandeSerializer(VersionSerializer):
    question = serializers.CharField()
    date_limite = serializers.DateField()


class ComplementReponseSerializer(VersionSerializer):
    reponse = serializers.CharField()


class OctroiSerializer(VersionSerializer):
    duree_jours = serializers.IntegerField(
        min_value=1,
        max_value=DUREE_MAX_JOURS,
        error_messages={"max_value": "La durée de traitement est d'au plus 1 an (365 jours) (R17)."},
    )
    laboratoire = serializers.PrimaryKeyRelatedField(queryset=Laboratoire.objects.all())
    reserve_hospitalier = serializers.BooleanField()
    restriction_prescripteurs = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    commentaire = serializers.CharField(required=False, allow_blank=True, default="")


class RefusSerializer(VersionSerializer):
    motif_refus = serializers.ChoiceField(choices=MotifRefus.choices)
    motif_refus_texte = serializers.CharField(required=False, allow_blank=True, default="")
    commentaire = serializers.CharField(required=False, allow_blank=True, default="")


class RecoursSerializer(VersionSerializer):
    motif = serializers.CharField()


class PieceSerializer(serializers.Serializer):
    fichier = serializers.FileField()


class PieceSortieSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nom = serializers.CharField()
    type_mime = serializers.CharField()
    taille = serializers.IntegerField()
    empreinte = serializers.CharField()
