"""Account pages: login and logout, password reset and change, the account page and its data export, the
second factor of ANSM staff."""

import base64
import json
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.helpers import get_client_ip_address
from axes.utils import reset as axes_reinitialiser
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from . import selectors, services
from .enums import TypeEvenementCompte
from .exceptions import ErreurCompte
from .forms import (
    ChangementMotDePasseForm,
    CodeDoubleFacteurForm,
    ConnexionForm,
    MotDePasseOublieForm,
    NouveauMotDePasseForm,
)


def _fil(courant: str, *liens: tuple[str, str]) -> dict:
    """Breadcrumb data: the DSFR breadcrumb already starts with « Accueil »."""
    return {"links": [{"url": url, "title": titre} for url, titre in liens], "current": courant}


def _mon_compte_lien() -> tuple[str, str]:
    return (reverse("comptes:mon_compte"), "Mon compte")


def adresse_ip(request) -> str | None:
    """The client address as axes resolves it, so that the journal and the lockout agree."""
    return get_client_ip_address(request)


def _suivant(request, defaut: str) -> str:
    """The `next` target when it stays on this site, otherwise `defaut` (no open redirect)."""
    cible = request.POST.get("next") or request.GET.get("next") or ""
    if cible and url_has_allowed_host_and_scheme(cible, {request.get_host()}, require_https=request.is_secure()):
        return cible
    return defaut


# --- Login, logout, lockout -----------------------------------------------------------------------------


class ConnexionView(auth_views.LoginView):
    template_name = "comptes/connexion.html"
    authentication_form = ConnexionForm
    redirect_authenticated_user = True
    extra_context = {"title": "Se connecter", "breadcrumb_data": _fil("Se connecter")}


class DeconnexionView(auth_views.LogoutView):
    pass


# --- Password reset by email and password change ------------------------------------------------------------


class MotDePasseOublieView(auth_views.PasswordResetView):
    """Django's reset: the answer is the same whether the address exists or not (no account enumeration)."""

    template_name = "comptes/mot_de_passe_oublie.html"
    form_class = MotDePasseOublieForm
    email_template_name = "comptes/emails/reinitialisation.txt"
    subject_template_name = "comptes/emails/reinitialisation_sujet.txt"
    success_url = reverse_lazy("comptes:mot_de_passe_oublie_envoye")
    extra_email_context = {"service": settings.SERVICE_NAME}
    extra_context = {"title": "Mot de passe oublié", "breadcrumb_data": _fil("Mot de passe oublié")}


class MotDePasseOublieEnvoyeView(auth_views.PasswordResetDoneView):
    template_name = "comptes/mot_de_passe_oublie_envoye.html"
    extra_context = {"title": "Courriel envoyé", "breadcrumb_data": _fil("Mot de passe oublié")}


class NouveauMotDePasseView(auth_views.PasswordResetConfirmView):
    template_name = "comptes/nouveau_mot_de_passe.html"
    form_class = NouveauMotDePasseForm
    success_url = reverse_lazy("comptes:mot_de_passe_reinitialise")
    extra_context = {"title": "Nouveau mot de passe", "breadcrumb_data": _fil("Nouveau mot de passe")}

    def form_valid(self, form):
        reponse = super().form_valid(form)
        # The owner of the mailbox proved who they are: lift a lockout caused by their own forgotten password.
        axes_reinitialiser(username=form.user.email.lower())
        services.evenement_compte_enregistrer(
            utilisateur=form.user,
            type_evenement=TypeEvenementCompte.MOT_DE_PASSE_REINITIALISE,
            adresse_ip=adresse_ip(self.request),
        )
        return reponse


class MotDePasseReinitialiseView(auth_views.PasswordResetCompleteView):
    template_name = "comptes/mot_de_passe_reinitialise.html"
    extra_context = {"title": "Mot de passe réinitialisé", "breadcrumb_data": _fil("Mot de passe réinitialisé")}


class ChangementMotDePasseView(auth_views.PasswordChangeView):
    template_name = "comptes/changement_mot_de_passe.html"
    form_class = ChangementMotDePasseForm
    success_url = reverse_lazy("comptes:mon_compte")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title="Modifier mon mot de passe",
            breadcrumb_data=_fil("Modifier mon mot de passe", _mon_compte_lien()),
            **kwargs,
        )

    def form_valid(self, form):
        reponse = super().form_valid(form)
        services.evenement_compte_enregistrer(
            utilisateur=form.user,
            type_evenement=TypeEvenementCompte.MOT_DE_PASSE_MODIFIE,
            adresse_ip=adresse_ip(self.request),
        )
        messages.success(self.request, "Votre mot de passe a été modifié.")
        return reponse


# --- The account page and the export of one's data ----------------------------------------------------------


@login_required
@never_cache
def mon_compte(request):
    utilisateur = selectors.utilisateur_compte(utilisateur_id=request.user.pk)
    appareil = None
    if utilisateur.second_facteur_requis:
        appareil = selectors.double_facteur_appareil(utilisateur=utilisateur)
    return render(
        request,
        "comptes/mon_compte.html",
        {
            "title": "Mon compte",
            "breadcrumb_data": _fil("Mon compte"),
            "compte": utilisateur,
            "appareil": appareil,
        },
    )


@login_required
@never_cache
def mes_donnees(request):
    """Download, as JSON, everything the service holds about the logged-in person; the download is journaled."""
    donnees = services.utilisateur_exporter_donnees(utilisateur=request.user, adresse_ip=adresse_ip(request))
    nom = f"mes-donnees-referentiel-ad-{timezone.localdate():%Y-%m-%d}.json"
    reponse = HttpResponse(
        json.dumps(donnees, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    reponse["Content-Disposition"] = f'attachment; filename="{nom}"'
    return reponse


# --- Second factor of ANSM staff -------------------------------------------------------------------------------


def _qr_code(url: str) -> str:
    """The otpauth URL as an SVG QR code in a data: URL (the CSP allows data: images, not inline markup)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _secret_lisible(appareil) -> str:
    secret = base64.b32encode(appareil.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _staff_requis(request) -> None:
    if not request.user.second_facteur_requis:
        raise PermissionDenied("Le second facteur est réservé aux agents de l'ANSM et aux comptes d'administration.")


@login_required
@never_cache
@sensitive_post_parameters("code")
def double_facteur_activation(request):
    """Enrol an authenticator app: show the QR code and the secret, confirm with a first code."""
    _staff_requis(request)
    suivant = _suivant(request, reverse("accueil"))
    if selectors.double_facteur_appareil(utilisateur=request.user) is not None:
        if request.user.is_verified():
            return redirect(suivant)
        return redirect(f"{reverse('comptes:double_facteur_verification')}?{urlencode({'next': suivant})}")

    form = CodeDoubleFacteurForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appareil = services.double_facteur_activer(
                utilisateur=request.user, code=form.cleaned_data["code"], adresse_ip=adresse_ip(request)
            )
        except ErreurCompte as erreur:
            form.add_error("code", erreur.message)
        else:
            request.session.cycle_key()  # the session now carries more privilege: give it a new key
            otp_login(request, appareil)
            messages.success(request, "Votre application d'authentification est enregistrée.")
            return redirect(suivant)

    appareil = services.double_facteur_appareil_a_activer(utilisateur=request.user)
    return render(
        request,
        "comptes/double_facteur_activation.html",
        {
            "title": "Activer le second facteur",
            "breadcrumb_data": _fil("Activer le second facteur"),
            "form": form,
            "qr_code": _qr_code(appareil.config_url),
            "secret": _secret_lisible(appareil),
            "next": suivant,
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
@sensitive_post_parameters("code")
def double_facteur_verification(request):
    """Second step of a staff login: a code from the enrolled authenticator app."""
    _staff_requis(request)
    suivant = _suivant(request, reverse("accueil"))
    if request.user.is_verified():
        return redirect(suivant)
    if selectors.double_facteur_appareil(utilisateur=request.user) is None:
        return redirect(f"{reverse('comptes:double_facteur_activation')}?{urlencode({'next': suivant})}")

    form = CodeDoubleFacteurForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appareil = services.double_facteur_verifier(
                utilisateur=request.user, code=form.cleaned_data["code"], adresse_ip=adresse_ip(request)
            )
        except ErreurCompte as erreur:
            form.add_error("code", erreur.message)
        else:
            request.session.cycle_key()
            otp_login(request, appareil)
            return redirect(suivant)
    return render(
        request,
        "comptes/double_facteur_verification.html",
        {
            "title": "Vérification en deux étapes",
            "breadcrumb_data": _fil("Vérification en deux étapes"),
            "form": form,
            "next": suivant,
        },
        status=400 if form.errors else 200,
    )
