from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
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


class CodeDoubleFacteurForm(DsfrBaseForm):
    code = forms.CharField(
        label="Code à usage unique",
        help_text="Les 6 chiffres affichés par votre application d'authentification.",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}", "autofocus": True}
        ),
        error_messages={
            "required": "Saisissez le code affiché par votre application.",
            "min_length": "Le code comporte 6 chiffres.",
            "max_length": "Le code comporte 6 chiffres.",
        },
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError("Le code ne contient que des chiffres.")
        return code


class MotDePasseOublieForm(PasswordResetForm, DsfrBaseForm):
    email = forms.EmailField(
        label="Adresse électronique",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class NouveauMotDePasseForm(SetPasswordForm, DsfrBaseForm):
    pass


class ChangementMotDePasseForm(PasswordChangeForm, DsfrBaseForm):
    pass
