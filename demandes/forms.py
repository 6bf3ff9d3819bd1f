"""Page forms of the request workflow. They parse and show fields; the services decide (rules, states)."""

from django import forms
from django.forms.models import fields_for_model, model_to_dict
from dsfr.forms import DsfrBaseForm

from comptes.models import PUI, Utilisateur
from referentiel.models import Laboratoire, Specialite

from .enums import MotifRefus, PieceLaboratoire
from .models import DUREE_MAX_JOURS, DemandeAAC
from .validators import initiales_normaliser, valider_initiales

OUI_NON = [("oui", "Oui"), ("non", "Non")]


class RadioSelect(forms.RadioSelect):
    """Radio buttons in the DSFR markup (input then label in .fr-radio-group). The class keeps Django's name so
    that django-dsfr recognises the widget ("radioselect") and wraps the group in its fieldset."""

    option_template_name = "demandes/widgets/radio_option.html"


class VersionForm(DsfrBaseForm):
    """Every form that writes a request carries the version it was built from (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def champs_du_modele(*noms, **options):
    """Class decorator: add these DemandeAAC fields (French labels, choices, validators) before the declared ones."""

    def decorer(cls):
        cls.base_fields = {**fields_for_model(DemandeAAC, fields=noms, **options), **cls.base_fields}
        return cls

    return decorer


def _oui_non_vers_bool(valeur):
    return {"oui": True, "non": False}.get(valeur)


def _bool_vers_oui_non(valeur):
    return {True: "oui", False: "non"}.get(valeur)


class EtapeForm(VersionForm):
    """A step of the multi-step request form, built on the request's own fields and initialised from it."""

    champs: tuple[str, ...] = ()

    def __init__(self, *args, demande: DemandeAAC, **kwargs):
        self.demande = demande
        initial = model_to_dict(demande, fields=self.champs)
        initial["version"] = demande.version
        initial.update(kwargs.pop("initial", {}))
        super().__init__(*args, initial=initial, **kwargs)

    def donnees(self) -> dict:
        """The fields to hand to the service (what the step edits)."""
        return {k: v for k, v in self.cleaned_data.items() if k in self.champs}

    def attestations(self):
        return None


@champs_du_modele(
    "medicament_nom",
    "medicament_dci",
    "medicament_dosage",
    "medicament_forme",
    "medicament_laboratoire",
    help_texts={
        "medicament_dci": "La DCI est comparée aux spécialités autorisées en France (base de données publique "
        "des médicaments) : un médicament qui y a une AMM ne relève pas de l'AAC (R5, R12).",
    },
)
class NonReferenceForm(DsfrBaseForm):
    """Step 1, second branch: a medicine that is not in the référentiel (R12)."""

    cle_idempotence = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for nom in ("medicament_nom", "medicament_dci", "medicament_dosage", "medicament_forme"):
            self.fields[nom].required = True


def _champ_specialite(specialites) -> forms.ModelChoiceField:
    """A radio list of the spécialités found by the search; on POST, any spécialité of the référentiel holding an
    AAC is accepted (the service checks the rules that apply to it)."""
    ids = [s.pk for s in specialites]
    champ = forms.ModelChoiceField(
        queryset=Specialite.objects.filter(pk__in=ids)
        if ids
        else Specialite.objects.filter(publiee=True, acces__type_acces="AAC").distinct(),
        widget=RadioSelect,
        label="Spécialité du référentiel",
        error_messages={"required": "Choisissez une spécialité.", "invalid_choice": "Choisissez une spécialité."},
    )
    if specialites:
        champ.choices = [(s.pk, s.nom) for s in specialites]
    return champ


class ChoixSpecialiteForm(DsfrBaseForm):
    """Step 1, first branch: a spécialité of the référentiel, found by the search."""

    cle_idempotence = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, specialites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialite"] = _champ_specialite(specialites)


class ChangementSpecialiteForm(VersionForm):
    """Step 1 of an existing draft: pick another spécialité (the indication and attestations start again)."""

    def __init__(self, *args, specialites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialite"] = _champ_specialite(specialites)


@champs_du_modele(
    "medicament_nom", "medicament_dci", "medicament_dosage", "medicament_forme", "medicament_laboratoire"
)
class MedicamentModificationForm(EtapeForm):
    """Step 1 once the draft exists: change the non-referenced medicine's description."""

    champs = ("medicament_nom", "medicament_dci", "medicament_dosage", "medicament_forme", "medicament_laboratoire")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for nom in ("medicament_nom", "medicament_dci", "medicament_dosage", "medicament_forme"):
            self.fields[nom].required = True


class IndicationForm(EtapeForm):
    """Step 2: a referenced indication of the spécialité's AAC, or another one to justify (R11-R12)."""

    AUTRE = "autre"
    champs = ("indication_libre",)
    choix = forms.ChoiceField(label="Indication", widget=RadioSelect, required=False)
    indication_libre = forms.CharField(
        label="Indication revendiquée",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pour une indication non référencée : décrivez-la ; la demande devra être justifiée (R12).",
    )

    def __init__(self, *args, indications=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indications = {str(i.pk): i for i in indications}
        if self.demande.specialite_id:
            self.fields["choix"].choices = [(pk, i.libelle) for pk, i in self.indications.items()] + [
                (self.AUTRE, "Une autre indication, non référencée (demande justifiée)")
            ]
            self.fields["choix"].required = True
            self.initial["choix"] = (
                str(self.demande.indication_id)
                if self.demande.indication_id
                else (self.AUTRE if self.demande.indication_libre else None)
            )
        else:
            del self.fields["choix"]
            self.fields["indication_libre"].required = True

    def clean(self):
        donnees = super().clean()
        if donnees.get("choix") == self.AUTRE and not (donnees.get("indication_libre") or "").strip():
            self.add_error("indication_libre", "Décrivez l'indication revendiquée (R12).")
        return donnees

    def donnees(self) -> dict:
        choix = self.cleaned_data.get("choix")
        if "choix" not in self.fields:
            return {"indication_libre": self.cleaned_data["indication_libre"]}
        if choix == self.AUTRE:
            return {
                "type_medicament": "reference_hors_indication",
                "indication": None,
                "indication_libre": self.cleaned_data["indication_libre"],
            }
        return {
            "type_medicament": "reference_indication",
            "indication": self.indications[choix],
            "indication_libre": "",
        }


class CriteresForm(EtapeForm):
    """Step 3: each critère d'octroi attested yes or no; any "no" (or a non-referenced indication) requires a
    justification (R11-R12); the statement about an AAP that covers the indication (R25)."""

    champs = ("justification", "patient_non_eligible_aap")
    justification = forms.CharField(
        label="Justification de la demande",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Obligatoire si un critère n'est pas rempli ou si l'indication n'est pas référencée : le patient "
        "ne peut être inclus dans un essai, il n'existe pas de traitement approprié, l'efficacité et la sécurité sont "
        "présumées au vu des données cliniques (R11, R12, R43).",
    )
    patient_non_eligible_aap = forms.BooleanField(
        label="J'atteste que mon patient n'est pas éligible à l'accès précoce en cours (R25)", required=False
    )

    def __init__(self, *args, criteres=(), aap=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteres = list(criteres)
        attestations = {a.critere_id: a.rempli for a in self.demande.attestations.all()}
        for critere in self.criteres:
            nom = f"critere_{critere.pk}"
            self.fields[nom] = forms.ChoiceField(
                label=critere.libelle,
                choices=OUI_NON,
                widget=RadioSelect(attrs={"data-critere": "oui"}),
                error_messages={"required": "Indiquez si ce critère est rempli (R11)."},
            )
            self.initial[nom] = _bool_vers_oui_non(attestations.get(critere.pk))
        if not aap:
            del self.fields["patient_non_eligible_aap"]
        # Field order: the criteria first, then the justification.
        self.order_fields([f"critere_{c.pk}" for c in self.criteres] + ["justification", "patient_non_eligible_aap"])

    def donnees(self) -> dict:
        donnees = {"justification": self.cleaned_data.get("justification", "")}
        if "patient_non_eligible_aap" in self.fields:
            donnees["patient_non_eligible_aap"] = self.cleaned_data["patient_non_eligible_aap"]
        return donnees

    def attestations(self):
        if not self.criteres:
            return None
        return {c.pk: self.cleaned_data[f"critere_{c.pk}"] == "oui" for c in self.criteres}


@champs_du_modele(
    "patient_initiales",
    "patient_age",
    "patient_age_unite",
    "patient_sexe",
    "patient_poids_kg",
    "territoire",
    "situation",
    widgets={"patient_sexe": RadioSelect, "situation": RadioSelect},
    help_texts={
        "patient_initiales": "Initiales du nom et du prénom, par exemple « J.-D. » ou « JD ». Ne saisissez ni nom, ni "
        "date de naissance, ni numéro de sécurité sociale (R43).",
        "territoire": "L'ANSM n'est pas compétente dans les TAAF, en Nouvelle-Calédonie et en Polynésie "
        "française (R9).",
        "situation": "Les situations autres que le traitement d'un patient ne relèvent pas de l'AAC (R8).",
    },
)
class PatientForm(EtapeForm):
    """Step 4: the patient as R43 allows (initials, age, sex, weight), the territory (R9), the context (R8)."""

    champs = (
        "patient_initiales",
        "patient_age",
        "patient_age_unite",
        "patient_sexe",
        "patient_poids_kg",
        "territoire",
        "situation",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for nom in ("patient_initiales", "patient_age", "patient_sexe", "patient_poids_kg"):
            self.fields[nom].required = True
        self.fields["patient_sexe"].choices = [c for c in self.fields["patient_sexe"].choices if c[0]]
        self.fields["patient_poids_kg"].min_value = 0

    def clean_patient_initiales(self):
        valeur = initiales_normaliser(self.cleaned_data["patient_initiales"])
        valider_initiales(valeur)
        return valeur


@champs_du_modele(
    "posologie",
    "duree_traitement_jours",
    "recherches_commerciales",
    "urgence",
    "astreinte_contactee",
    widgets={
        "urgence": RadioSelect,
        "posologie": forms.Textarea(attrs={"rows": 3}),
        "recherches_commerciales": forms.Textarea(attrs={"rows": 2}),
    },
    help_texts={
        "duree_traitement_jours": f"De 1 à {DUREE_MAX_JOURS} jours (R17).",
        "recherches_commerciales": "Références des essais ou recherches à des fins commerciales en cours (R43), s'il "
        "y en a.",
        "astreinte_contactee": "En cas d'urgence vitale, l'astreinte de l'ANSM reste joignable (R44).",
    },
)
class TraitementForm(EtapeForm):
    """Step 5: posology, duration (R17), ongoing commercial research, deferral, urgency (R44); for a renewal,
    the past period's clinical data and the prescriber's statement (R46)."""

    champs = (
        "posologie",
        "duree_traitement_jours",
        "recherches_commerciales",
        "traitement_differable",
        "urgence",
        "astreinte_contactee",
        "donnees_cliniques_periode",
        "declaration_poursuite",
    )
    traitement_differable = forms.ChoiceField(
        label="Le traitement peut-il être différé ?", choices=OUI_NON, widget=RadioSelect
    )
    donnees_cliniques_periode = forms.CharField(
        label="Données cliniques de la période de traitement écoulée",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    declaration_poursuite = forms.BooleanField(
        label="J'atteste que la poursuite du traitement présente un intérêt pour le patient (R46)", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["posologie"].required = True
        self.fields["duree_traitement_jours"].required = True
        self.fields["duree_traitement_jours"].min_value = 1
        self.fields["duree_traitement_jours"].max_value = DUREE_MAX_JOURS
        self.fields["duree_traitement_jours"].error_messages["max_value"] = (
            f"La durée de traitement est d'au plus 1 an ({DUREE_MAX_JOURS} jours) (R17)."
        )
        self.fields["duree_traitement_jours"].error_messages["min_value"] = (
            "La durée de traitement est d'au moins 1 jour (R17)."
        )
        self.initial["traitement_differable"] = _bool_vers_oui_non(self.demande.traitement_differable)
        if not self.demande.demande_initiale_id:
            del self.fields["donnees_cliniques_periode"]
            del self.fields["declaration_poursuite"]
        else:
            self.fields["donnees_cliniques_periode"].required = True

    def donnees(self) -> dict:
        donnees = super().donnees()
        donnees["traitement_differable"] = _oui_non_vers_bool(self.cleaned_data["traitement_differable"])
        return donnees


class EngagementsForm(EtapeForm):
    """Step 6: the prescriber's commitments (R13) and the PUI / pharmacist who will handle the request (R10)."""

    champs = (
        "engagement_information_patient",
        "medecin_traitant_informe",
        "engagement_surveillance",
        "engagement_put_pharmacovigilance",
        "engagement_reponse_ansm",
        "pui",
        "pharmacien",
    )
    engagement_information_patient = forms.BooleanField(
        label="J'ai informé le patient et inscrit la procédure d'information dans son dossier médical",
        required=True,
    )
    medecin_traitant_informe = forms.BooleanField(
        label="J'ai informé son médecin traitant (si possible)", required=False
    )
    engagement_surveillance = forms.BooleanField(
        label="J'assurerai la surveillance étroite du patient et le recueil des données prévu par le PUT",
        required=True,
    )
    engagement_put_pharmacovigilance = forms.BooleanField(
        label="Je respecterai le PUT et les exigences de pharmacovigilance, et tiendrai le pharmacien informé",
        required=True,
    )
    engagement_reponse_ansm = forms.BooleanField(
        label="Je répondrai à toute demande d'information de l'ANSM", required=True
    )
    pui = forms.ModelChoiceField(queryset=PUI.objects.none(), label="PUI qui traitera la demande (R10)")
    pharmacien = forms.ModelChoiceField(
        queryset=Utilisateur.objects.none(),
        label="Pharmacien désigné",
        required=False,
        help_text="Sinon, tous les pharmaciens de la PUI reçoivent la demande.",
    )

    def __init__(self, *args, puis=None, pharmaciens=None, **kwargs):
        super().__init__(*args, **kwargs)
        for nom in (
            "engagement_information_patient",
            "engagement_surveillance",
            "engagement_put_pharmacovigilance",
            "engagement_reponse_ansm",
        ):
            self.fields[nom].error_messages["required"] = "Cet engagement est requis (R13)."
        self.fields["pui"].queryset = puis if puis is not None else PUI.objects.none()
        self.fields["pharmacien"].queryset = pharmaciens if pharmaciens is not None else Utilisateur.objects.none()
        self.fields["pharmacien"].label_from_instance = lambda u: f"{u.nom_complet} — {u.pui.nom}"


class CommentaireForm(VersionForm):
    commentaire = forms.CharField(label="Commentaire", widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RenvoiForm(VersionForm):
    commentaire = forms.CharField(
        label="Ce que le prescripteur doit modifier ou compléter", widget=forms.Textarea(attrs={"rows": 3})
    )


class ComplementDemandeForm(VersionForm):
    question = forms.CharField(label="Question posée à la PUI", widget=forms.Textarea(attrs={"rows": 4}))
    date_limite = forms.DateField(label="Date limite de réponse", widget=forms.DateInput(attrs={"type": "date"}))


class ComplementReponseForm(VersionForm):
    reponse = forms.CharField(label="Réponse à l'ANSM", widget=forms.Textarea(attrs={"rows": 5}))
    fichier = forms.FileField(
        label="Pièce jointe", required=False, help_text="PDF, PNG ou JPEG ; le contenu du fichier est vérifié."
    )


class OctroiForm(VersionForm):
    duree_jours = forms.IntegerField(
        label="Durée de traitement (jours)",
        min_value=1,
        max_value=DUREE_MAX_JOURS,
        help_text="De 1 à 365 jours (R17).",
    )
    laboratoire = forms.ModelChoiceField(
        queryset=Laboratoire.objects.all(), label="Laboratoire auprès duquel la PUI commande (R17)"
    )
    reserve_hospitalier = forms.ChoiceField(
        label="Réservé à l'usage hospitalier (R28)",
        choices=[
            ("oui", "Oui : prescription, dispensation et administration en établissement"),
            ("non", "Non : inscrit sur la liste de rétrocession"),
        ],
        widget=RadioSelect,
        initial="oui",
    )
    restriction_prescripteurs = forms.CharField(
        label="Restriction de prescription",
        required=False,
        max_length=500,
        help_text="Par exemple : prescription réservée aux spécialistes en hématologie (R28).",
    )
    commentaire = forms.CharField(label="Observations", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RefusForm(VersionForm):
    motif = forms.ChoiceField(label="Motif du refus (R18)", choices=MotifRefus.choices, widget=RadioSelect)
    motif_texte = forms.CharField(
        label="Précisions sur le motif",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Obligatoire pour « Autre motif ».",
    )
    commentaire = forms.CharField(label="Observations", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RecoursForm(VersionForm):
    motif = forms.CharField(
        label="Motifs du recours gracieux",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Adressé au directeur général de l'ANSM, dans les 2 mois de la notification de la décision (R19).",
    )


class RenouvellementForm(VersionForm):
    cle_idempotence = forms.CharField(widget=forms.HiddenInput, max_length=64)


class PieceForm(DsfrBaseForm):
    fichier = forms.FileField(label="Ajouter une pièce jointe", help_text="PDF, PNG ou JPEG ; 20 Mo au plus.")


# --- The ANSM's review (issue 5) ------------------------------------------------------------------------------------


class AssignationForm(VersionForm):
    evaluateur = forms.ModelChoiceField(
        queryset=Utilisateur.objects.none(),
        label="Évaluateur",
        error_messages={"invalid_choice": "Choisissez un évaluateur de l'ANSM en activité."},
    )

    def __init__(self, *args, **kwargs):
        from .selectors import evaluateurs_actifs

        super().__init__(*args, **kwargs)
        self.fields["evaluateur"].queryset = evaluateurs_actifs()
        self.fields["evaluateur"].label_from_instance = lambda u: u.nom_complet or u.email


class InformationLaboratoireForm(VersionForm):
    """R16: the pieces to tick, the laboratory asked and the deadline."""

    laboratoire = forms.ModelChoiceField(queryset=Laboratoire.objects.all(), label="Laboratoire interrogé")
    pieces = forms.MultipleChoiceField(
        label="Pièces demandées au laboratoire (R16)",
        choices=PieceLaboratoire.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Cochez au moins une pièce à demander au laboratoire (R16)."},
    )
    question = forms.CharField(
        label="Précisions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Transmises au laboratoire : n'y mettez aucune donnée du patient.",
    )
    date_limite = forms.DateField(label="Date limite de réponse", widget=forms.DateInput(attrs={"type": "date"}))


class RecoursAccueilForm(OctroiForm):
    """R19: the appeal is upheld; the reviewed decision is a grant on these terms."""

    reponse = forms.CharField(
        label="Réponse motivée au recours",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Adressée au prescripteur.",
    )
    field_order = ["version", "reponse"]


class RecoursRejetForm(VersionForm):
    reponse = forms.CharField(
        label="Motifs du rejet du recours",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Adressés au prescripteur ; un recours contentieux reste possible (R19).",
    )


# --- The laboratory's answer (R16) -----------------------------------------------------------------------------------


class _PlusieursFichiers(forms.ClearableFileInput):
    allow_multiple_selected = True


class PlusieursFichiersField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by its content by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _PlusieursFichiers())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        un = super().clean
        if isinstance(data, list | tuple):
            return [un(d, initial) for d in data]
        return [un(data, initial)] if data else []


class ReponseLaboratoireForm(DsfrBaseForm):
    reponse = forms.CharField(label="Votre réponse à l'ANSM", widget=forms.Textarea(attrs={"rows": 6}))
    fichiers = PlusieursFichiersField(
        label="Documents",
        required=False,
        help_text="PDF, PNG ou JPEG ; 20 Mo au plus par fichier ; le contenu de chaque fichier est vérifié.",
    )


# --- Statistics ----------------------------------------------------------------------------------------------------


class PeriodeForm(DsfrBaseForm):
    debut = forms.DateField(label="Du", widget=forms.DateInput(attrs={"type": "date"}))
    fin = forms.DateField(label="Au", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        donnees = super().clean()
        debut, fin = donnees.get("debut"), donnees.get("fin")
        if debut and fin and debut > fin:
            self.add_error("fin", "La fin de la période suit son début.")
        if debut and fin and (fin - debut).days > 366 * 5:
            self.add_error("debut", "La période couvre au plus cinq ans.")
        return donnees
