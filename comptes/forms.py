from django import forms
from django.contrib.auth.forms import AuthenticationForm
from dsfr.forms import DsfrBaseForm


class ConnexionForm(AuthenticationForm, DsfrBaseForm):
    username = forms.EmailField(
        label="Adresse électronique", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect. Les deux champs tiennent compte de la casse "
        "du mot de passe.",
        "inactive": "Ce compte est désactivé. Contactez l'administrateur du service.",
    }
