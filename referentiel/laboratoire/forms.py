"""Forms of the laboratory space. They parse and show fields; the services decide (R23, R29, R32, R34)."""

from django import forms
from dsfr.forms import DsfrBaseForm

AIDE_FICHIER = "PDF, PNG, JPEG, ODT ou DOCX : le contenu du fichier est vérifié, pas seulement son extension."


class PropositionPUTForm(DsfrBaseForm):
    """R32: the laboratory's PUT proposal, with the draft protocol."""

    version = forms.CharField(label="Version", max_length=20, initial="1")
    recueil_nominatif = forms.BooleanField(label="Avec recueil nominatif de données", required=False)
    periodicite_rapports_mois = forms.IntegerField(
        label="Périodicité proposée des rapports de synthèse (mois)",
        required=False,
        help_text="Obligatoire avec un recueil de données (R34).",
    )
    crpv = forms.CharField(label="CRPV proposé pour le suivi", max_length=200, required=False)
    fichier = forms.FileField(label="Projet de PUT", help_text=AIDE_FICHIER)


class DepotRapportForm(DsfrBaseForm):
    """R34: the periodic synthesis report, with its benefit/risk analysis."""

    fichier = forms.FileField(label="Rapport de synthèse", help_text=AIDE_FICHIER)


class DemandeProlongationForm(DsfrBaseForm):
    """R23: a motivated request to extend the AAP filing deadline."""

    # No bound here: the service refuses more than 6 months with the rule's own message (R23).
    duree_mois = forms.IntegerField(label="Durée demandée (mois)", help_text="6 mois au plus par prolongation (R23).")
    motif = forms.CharField(
        label="Motif",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Pourquoi le délai de dépôt de la demande d'AAP ne suffit pas (état des essais, calendrier).",
    )


class DeclarationTitulaireForm(DsfrBaseForm):
    """R29: a change of rights holder or exploitant of the product."""

    nouveau_titulaire = forms.CharField(label="Nouveau titulaire des droits", max_length=200, required=False)
    nouvel_exploitant = forms.CharField(label="Nouvel exploitant", max_length=200, required=False)
    sans_exploitant = forms.BooleanField(
        label="Le produit n'aura plus d'exploitant",
        required=False,
        help_text="Un exploitant est recommandé, non obligatoire (R29).",
    )
    date_effet = forms.DateField(
        label="Date d'effet", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    commentaire = forms.CharField(label="Commentaire", widget=forms.Textarea(attrs={"rows": 3}), required=False)
