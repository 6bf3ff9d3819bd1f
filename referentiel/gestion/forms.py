"""Back-office forms of the référentiel. They parse and show fields; the services decide (rules, states, history)."""

from django import forms
from django.db.models import Q
from django.forms.models import fields_for_model, model_to_dict
from dsfr.forms import DsfrBaseForm

from ..enums import EtatAcces, OrigineSignalement, StatutRapport, TypeAcces, TypeDocument
from ..models import (
    PUT,
    AccesDerogatoire,
    Indication,
    Laboratoire,
    Signalement,
    Specialite,
)
from ..services import CHAMPS_SPECIALITE


class ChampDate(forms.DateField):
    """A native date picker (ISO value), which every supported browser shows and which works without JavaScript."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _dates(form: forms.Form) -> None:
    for champ in form.fields.values():
        if isinstance(champ, forms.DateField) and not isinstance(champ.widget, forms.HiddenInput):
            champ.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ModeleForm(DsfrBaseForm):
    """A form built on a model's own fields (French labels, choices, help texts), initialised from an instance."""

    modele = None
    champs: tuple[str, ...] = ()
    obligatoires: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.modele is not None:
            # Runs inside the metaclass, before it gathers declared_fields into base_fields.
            cls.declared_fields = {**fields_for_model(cls.modele, fields=cls.champs), **cls.declared_fields}

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None:
            kwargs["initial"] = {**model_to_dict(instance, fields=self.champs), **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        _dates(self)
        for nom in self.obligatoires:
            self.fields[nom].required = True

    def donnees(self) -> dict:
        """The model fields, for the service's keyword arguments."""
        return {nom: valeur for nom, valeur in self.cleaned_data.items() if nom in self.champs}


# --- Spécialités ---------------------------------------------------------------------------------------------------


def _composition_texte(specialite: Specialite | None) -> str:
    if specialite is None:
        return ""
    return "\n".join(
        f"{c.substance.dci} ; {c.dosage}".rstrip(" ;")
        for c in specialite.compositions.select_related("substance").order_by("id")
    )


class SpecialiteForm(ModeleForm):
    modele = Specialite
    champs = tuple(c for c in CHAMPS_SPECIALITE if c not in ("publiee", "demonstration"))
    obligatoires = ("nom",)
    composition = forms.CharField(
        label="Composition",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Une substance par ligne : DCI ; dosage (par exemple « ibrutinib ; 140 mg »).",
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None and "composition" not in self.initial:
            self.initial["composition"] = _composition_texte(instance)
        for nom in ("titulaire", "exploitant"):
            self.fields[nom].queryset = Laboratoire.objects.order_by("nom")
        self.fields["exploitant"].help_text = "Recommandé, non obligatoire (R29)."

    def clean_composition(self) -> list[dict]:
        lignes = []
        for numero, ligne in enumerate(self.cleaned_data["composition"].splitlines(), 1):
            if not ligne.strip():
                continue
            dci, _, dosage = ligne.partition(";")
            if not dci.strip():
                raise forms.ValidationError(f"Ligne {numero} : indiquez la DCI avant le point-virgule.")
            lignes.append({"substance": dci.strip(), "dosage": dosage.strip()})
        return lignes


class RechercheSpecialiteForm(DsfrBaseForm):
    q = forms.CharField(
        label="Rechercher une spécialité",
        required=False,
        max_length=200,
        help_text="Nom, DCI, laboratoire ou code CIS (8 chiffres), y compris les spécialités importées de la BDPM.",
    )
    statut = forms.ChoiceField(
        label="Statut dérogatoire",
        required=False,
        choices=[("", "Toutes les spécialités"), ("avec", "Avec un statut dérogatoire"), ("sans", "Sans statut")],
    )


# --- Statuses ------------------------------------------------------------------------------------------------------

CHAMPS_ACCES_FORMULAIRE = (
    "etat",
    "precedent",
    "date_debut",
    "date_fin",
    "date_prochain_renouvellement",
    "conditions_utilisation",
    "phase_aap",
    "date_decision_has",
    "riph_commerciale",
    "engagement_aap",
    "date_premiere_aac",
)


class AccesForm(ModeleForm):
    """A status other than a CPC (whose life has its own pages, R38-R40)."""

    modele = AccesDerogatoire
    champs = CHAMPS_ACCES_FORMULAIRE
    type_acces = forms.ChoiceField(
        label="Type d'accès",
        choices=[(v, label) for v, label in TypeAcces.choices if v != TypeAcces.CPC],
        help_text="Un CPC se crée depuis la page des CPC, à partir d'un signalement (R39).",
    )

    def __init__(self, *args, specialite: Specialite, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        precedents = AccesDerogatoire.objects.filter(specialite=specialite)
        if instance is not None:
            precedents = precedents.exclude(pk=instance.pk)
            del self.fields["type_acces"]
        self.fields["precedent"].queryset = precedents
        self.fields["phase_aap"].help_text = "AAP seulement : pré-AMM (R25) ou post-AMM (R26)."
        self.fields["etat"].initial = EtatAcces.EN_COURS
        self.order_fields(["type_acces", *self.champs])


class AmmForm(DsfrBaseForm):
    """R24: the medicine in AAC got an AMM; AAC stop at most 3 months later."""

    date_amm = forms.DateField(label="Date de l'AMM")
    date_cessation = forms.DateField(
        label="Date de cessation des AAC",
        required=False,
        help_text="Au plus 3 mois après l'AMM (R24) ; par défaut, 3 mois après. Après cette date, aucune AAC n'est "
        "octroyée pour ce médicament, quelle que soit l'indication.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)


class EngagementAAPForm(ModeleForm):
    """R7, R23: the laboratory's commitment to file an AAP while commercial research is under way."""

    modele = AccesDerogatoire
    champs = ("riph_commerciale", "engagement_aap", "date_premiere_aac")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "date_premiere_aac"
        ].help_text = "Le délai de dépôt de l'AAP court de cette date : 12 mois, 18 pour une maladie rare (R23)."


class ProlongationForm(DsfrBaseForm):
    # No bound on the field itself: the service refuses more than 6 months with the rule's message (R23).
    duree_mois = forms.IntegerField(label="Durée de la prolongation (mois)", help_text="6 mois au plus (R23).")
    motif = forms.CharField(label="Motif de la demande du laboratoire", widget=forms.Textarea(attrs={"rows": 3}))


# --- Indications, criteria, PUT, documents ------------------------------------------------------------------------


class IndicationForm(ModeleForm):
    modele = Indication
    champs = ("libelle", "patients_eligibles", "maladie_rare", "restriction_aap", "ordre", "publiee_le")
    criteres = forms.CharField(
        label="Critères d'octroi",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Un critère par ligne, dans l'ordre où le prescripteur les atteste (R11). Changer l'ordre des "
        "lignes change l'ordre des critères.",
    )

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None and "criteres" not in self.initial:
            self.initial["criteres"] = "\n".join(c.libelle for c in instance.criteres.all())
        self.fields["ordre"].required = False

    def clean_criteres(self) -> list[str]:
        return [ligne.strip() for ligne in self.cleaned_data["criteres"].splitlines() if ligne.strip()]

    def donnees(self) -> dict:
        donnees = super().donnees()
        if donnees.get("ordre") is None:
            donnees.pop("ordre", None)
        if donnees.get("publiee_le") is None:
            donnees.pop("publiee_le", None)
        return donnees


class PUTForm(ModeleForm):
    modele = PUT
    champs = ("type_put", "version", "recueil_nominatif", "periodicite_rapports_mois", "crpv", "date_validation")


class ValidationPropositionForm(DsfrBaseForm):
    date_validation = forms.DateField(label="Date de validation", required=False)
    crpv = forms.CharField(label="CRPV en charge du suivi", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)


class DocumentForm(DsfrBaseForm):
    type_document = forms.ChoiceField(label="Type", choices=TypeDocument.choices)
    titre = forms.CharField(max_length=250)
    fichier = forms.FileField(
        label="Fichier", help_text="PDF, PNG, JPEG, ODT ou DOCX : le contenu est vérifié, pas seulement l'extension."
    )
    acces = forms.ModelChoiceField(label="Statut concerné", queryset=AccesDerogatoire.objects.none(), required=False)
    date_document = forms.DateField(label="Date du document", required=False)
    version = forms.CharField(max_length=20, required=False)
    public = forms.BooleanField(label="Publié sur la fiche", required=False, initial=True)

    def __init__(self, *args, specialite: Specialite, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["acces"].queryset = AccesDerogatoire.objects.filter(specialite=specialite)
        _dates(self)


class RapportCreerForm(DsfrBaseForm):
    acces = forms.ModelChoiceField(label="Statut concerné", queryset=AccesDerogatoire.objects.none())
    periode_debut = forms.DateField(label="Début de la période")
    periode_fin = forms.DateField(label="Fin de la période")
    date_echeance = forms.DateField(
        label="Date d'échéance", help_text="Date à laquelle le laboratoire le remet (R34)."
    )

    def __init__(self, *args, specialite: Specialite, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["acces"].queryset = AccesDerogatoire.objects.filter(specialite=specialite).exclude(
            etat=EtatAcces.TERMINE
        )
        _dates(self)


class RapportValiderForm(DsfrBaseForm):
    resume = forms.CharField(
        label="Résumé validé",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Le résumé que l'ANSM publie sur la fiche et que le laboratoire diffuse (R35).",
    )
    publier = forms.BooleanField(label="Publier aussitôt le résumé sur la fiche", required=False, initial=True)


class RapportFiltreForm(DsfrBaseForm):
    statut = forms.ChoiceField(label="État", required=False, choices=[("", "Tous les états"), *StatutRapport.choices])
    en_retard = forms.BooleanField(label="En retard seulement", required=False)
    q = forms.CharField(label="Spécialité", required=False, max_length=200)


# --- CPC and signalements (R38-R40) ------------------------------------------------------------------------------


class SignalementForm(ModeleForm):
    modele = Signalement
    champs = ("origine", "organisation", "date_signalement", "situation")
    dci = forms.CharField(
        label="Substance (DCI)",
        required=False,
        max_length=250,
        help_text="La substance concernée, si le signalement ne vise pas une spécialité précise.",
    )

    def __init__(self, *args, specialite: Specialite | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.specialite = specialite
        self.fields["origine"].help_text = "R39 : INCa, centres maladies rares, CNP, associations de patients agréées."
        if specialite is None:
            self.fields["dci"].required = True

    def clean_dci(self):
        from ..models import Substance

        dci = self.cleaned_data["dci"].strip()
        if not dci:
            return None
        substance = Substance.objects.filter(dci__iexact=dci).order_by("pk").first()
        if substance is None:
            raise forms.ValidationError(f"Aucune substance « {dci} » dans le référentiel : vérifiez la DCI.")
        return substance


class CPCCreerForm(DsfrBaseForm):
    signalement = forms.ModelChoiceField(
        label="Signalement à l'origine du CPC", queryset=Signalement.objects.none(), required=False
    )
    origine_signalement = forms.ChoiceField(
        label="Origine du signalement (sans signalement enregistré)",
        choices=[("", "—"), *OrigineSignalement.choices],
        required=False,
    )
    conditions_utilisation = forms.CharField(
        label="Conditions d'utilisation", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, specialite: Specialite, **kwargs):
        super().__init__(*args, **kwargs)
        substances = specialite.compositions.values("substance_id")
        self.fields["signalement"].queryset = (
            Signalement.objects.filter(cpc__isnull=True)
            .filter(Q(specialite=specialite) | Q(specialite__isnull=True, substance_id__in=substances))
            .order_by("-date_signalement")
        )


class DateForm(DsfrBaseForm):
    """A CPC step that takes one date (planned entry into force, start of the new term, end)."""

    def __init__(self, *args, champ: str, libelle: str, obligatoire: bool, aide: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[champ] = forms.DateField(label=libelle, required=obligatoire, help_text=aide)
        _dates(self)


# --- Laboratories' requests ---------------------------------------------------------------------------------------


class ReponseForm(DsfrBaseForm):
    """The ANSM's answer to a laboratory: optional when granting, the reason when refusing."""

    motif = forms.CharField(label="Réponse au laboratoire", widget=forms.Textarea(attrs={"rows": 3}), required=False)
