"""Output serializers of the public API (read-only): what a fiche publishes, nothing more."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import liens
from ..enums import EtatAcces, TypeAcces
from ..models import (
    PUT,
    AccesDerogatoire,
    Composition,
    CritereOctroi,
    Document,
    Indication,
    Laboratoire,
    ProlongationEngagementAAP,
    RapportPeriodique,
    Specialite,
)


class _UrlAbsolue(serializers.Field):
    """An absolute URL built from a named route and the object's attribute (read-only)."""

    def __init__(self, nom_route: str, attribut: str, **kwargs):
        self.nom_route, self.attribut = nom_route, attribut
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, objet):
        chemin = reverse(self.nom_route, args=[getattr(objet, self.attribut)])
        requete = self.context.get("request")
        return requete.build_absolute_uri(chemin) if requete else chemin


UrlAbsolue = extend_schema_field(OpenApiTypes.URI)(_UrlAbsolue)


class LaboratoireSerializer(serializers.ModelSerializer):
    class Meta:
        model = Laboratoire
        fields = ["id", "nom", "email", "telephone", "adresse"]


class CompositionSerializer(serializers.ModelSerializer):
    dci = serializers.CharField(source="substance.dci")

    class Meta:
        model = Composition
        fields = ["dci", "dosage", "reference_dosage"]


class AccesResumeSerializer(serializers.ModelSerializer):
    type_acces_libelle = serializers.CharField(source="get_type_acces_display")
    etat_libelle = serializers.CharField(source="get_etat_display")

    class Meta:
        model = AccesDerogatoire
        fields = ["id", "type_acces", "type_acces_libelle", "etat", "etat_libelle", "date_debut", "date_fin"]


class SpecialiteResumeSerializer(serializers.ModelSerializer):
    url_fiche = UrlAbsolue("referentiel:fiche", "slug")

    class Meta:
        model = Specialite
        fields = ["id", "nom", "slug", "url_fiche"]


class SpecialiteListeSerializer(serializers.ModelSerializer):
    """A row of the list: enough to choose a fiche, without its indications."""

    url = UrlAbsolue("specialite-detail", "pk")
    url_fiche = UrlAbsolue("referentiel:fiche", "slug")
    substances = CompositionSerializer(source="compositions", many=True)
    titulaire = serializers.CharField(source="titulaire.nom", allow_null=True, default=None)
    exploitant = serializers.CharField(source="exploitant.nom", allow_null=True, default=None)
    acces = AccesResumeSerializer(source="acces_publics", many=True)

    class Meta:
        model = Specialite
        fields = [
            "id",
            "url",
            "url_fiche",
            "nom",
            "slug",
            "cis",
            "code_atc",
            "substances",
            "forme_pharmaceutique",
            "voies_administration",
            "aire_therapeutique",
            "mitm",
            "titulaire",
            "exploitant",
            "acces",
            "mis_a_jour_le",
        ]


_DATE_HEURE = serializers.DateTimeField()
_LIBELLE_TYPE = dict(TypeAcces.choices)
_LIBELLE_ETAT = dict(EtatAcces.choices)


def specialites_en_liste(lignes: list[dict], *, requete) -> list[dict]:
    """The rows of selectors.specialites_lignes in the representation of SpecialiteListeSerializer (which stays the
    documented schema, and against which a test checks this output): plain dicts built in one pass, for the API
    list's 20 to 100 rows per request. The two URLs are reversed once per call."""
    url_api = requete.build_absolute_uri(reverse("specialite-detail", args=[0])).removesuffix("0/")
    url_fiche = liens.url_fiche_par_slug(requete.build_absolute_uri)
    return [
        {
            "id": ligne["id"],
            "url": f"{url_api}{ligne['id']}/",
            "url_fiche": url_fiche(ligne["slug"]),
            "nom": ligne["nom"],
            "slug": ligne["slug"],
            "cis": ligne["cis"],
            "code_atc": ligne["code_atc"],
            "substances": ligne["composition"],
            "forme_pharmaceutique": ligne["forme_pharmaceutique"],
            "voies_administration": ligne["voies_administration"],
            "aire_therapeutique": ligne["aire_therapeutique"],
            "mitm": ligne["mitm"],
            "titulaire": ligne["titulaire_nom"],
            "exploitant": ligne["exploitant_nom"],
            "acces": [
                {
                    "id": a["id"],
                    "type_acces": a["type_acces"],
                    "type_acces_libelle": _LIBELLE_TYPE.get(a["type_acces"], a["type_acces"]),
                    "etat": a["etat"],
                    "etat_libelle": _LIBELLE_ETAT.get(a["etat"], a["etat"]),
                    "date_debut": a["date_debut"],
                    "date_fin": a["date_fin"],
                }
                for a in ligne["acces_publics"]
            ],
            "mis_a_jour_le": _DATE_HEURE.to_representation(ligne["mis_a_jour_le"]),
        }
        for ligne in lignes
    ]


class CritereSerializer(serializers.ModelSerializer):
    class Meta:
        model = CritereOctroi
        fields = ["id", "ordre", "libelle"]


class IndicationSerializer(serializers.ModelSerializer):
    criteres = CritereSerializer(many=True)

    class Meta:
        model = Indication
        fields = [
            "id",
            "libelle",
            "patients_eligibles",
            "maladie_rare",
            "restriction_aap",
            "publiee_le",
            "criteres",
        ]


class PUTSerializer(serializers.ModelSerializer):
    class Meta:
        model = PUT
        fields = [
            "id",
            "type_put",
            "version",
            "date_validation",
            "recueil_nominatif",
            "periodicite_rapports_mois",
            "crpv",
        ]


class RapportResumeSerializer(serializers.ModelSerializer):
    class Meta:
        model = RapportPeriodique
        fields = ["id", "periode_debut", "periode_fin", "resume", "resume_publie_le"]


class ProlongationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProlongationEngagementAAP
        fields = ["duree_mois", "accordee_le"]


class DocumentSerializer(serializers.ModelSerializer):
    url = UrlAbsolue("referentiel:document", "pk")

    class Meta:
        model = Document
        fields = ["id", "titre", "type_document", "date_document", "version", "type_mime", "taille", "acces", "url"]


class AccesPrecedentSerializer(serializers.ModelSerializer):
    specialite = SpecialiteResumeSerializer()

    class Meta:
        model = AccesDerogatoire
        fields = ["id", "type_acces", "etat", "date_debut", "date_fin", "specialite"]


_CHAMPS_ACCES = [
    "id",
    "type_acces",
    "type_acces_libelle",
    "etat",
    "etat_libelle",
    "date_debut",
    "date_fin",
    "date_prochain_renouvellement",
    "conditions_utilisation",
    "phase_aap",
    "date_decision_has",
    "date_cessation",
    "riph_commerciale",
    "engagement_aap",
    "date_limite_depot_aap",
    "origine_signalement",
    "mis_a_jour_le",
]


class AccesDetailSerializer(AccesResumeSerializer):
    """A status as the fiche shows it: criteria per indication, PUT, published report résumés, history links."""

    precedent = AccesPrecedentSerializer(allow_null=True)
    suivants = AccesPrecedentSerializer(source="suivants_publics", many=True)
    indications = IndicationSerializer(many=True)
    puts = PUTSerializer(source="puts_publics", many=True)
    rapports = RapportResumeSerializer(source="rapports_publies", many=True)
    prolongations = ProlongationSerializer(many=True)

    class Meta(AccesResumeSerializer.Meta):
        fields = [*_CHAMPS_ACCES, "precedent", "suivants", "indications", "puts", "rapports", "prolongations"]


class CPDSerializer(serializers.Serializer):
    reserve_hospitalier = serializers.BooleanField()
    restriction_prescripteurs = serializers.CharField()
    retrocession = serializers.BooleanField()
    # Each CPD line as published in the BDPM (its str() is its text).
    conditions_bdpm = serializers.ListField(child=serializers.CharField(), source="conditions_prescription.all")


class SpecialiteDetailSerializer(SpecialiteListeSerializer):
    titulaire = LaboratoireSerializer(allow_null=True)
    exploitant = LaboratoireSerializer(allow_null=True)
    cpd = CPDSerializer(source="*")
    acces = AccesDetailSerializer(source="acces_publics", many=True)
    documents = DocumentSerializer(source="documents_publics", many=True)

    class Meta(SpecialiteListeSerializer.Meta):
        fields = [
            *SpecialiteListeSerializer.Meta.fields,
            "statut_amm",
            "date_amm",
            "date_arret_commercialisation",
            "cpd",
            "documents",
        ]


class AccesSerializer(AccesResumeSerializer):
    """A status in /acces/: its fields and its spécialité; its indications are in /indications/?specialite=."""

    specialite = SpecialiteResumeSerializer()

    class Meta(AccesResumeSerializer.Meta):
        fields = [*_CHAMPS_ACCES, "specialite"]


class IndicationListeSerializer(IndicationSerializer):
    acces = AccesResumeSerializer()
    specialite = SpecialiteResumeSerializer(source="acces.specialite")

    class Meta(IndicationSerializer.Meta):
        fields = [*IndicationSerializer.Meta.fields, "acces", "specialite"]
