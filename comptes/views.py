"""Account pages: login and logout, password reset and change, the account page and its data export, the
second factor of ANSM staff."""

import base64
import json
from functools import wraps
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
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET
from django_otp import login as otp_login

from referentiel.exports import reponse_csv

from . import selectors, services
from .enums import OperationAudit, TypeEvenementCompte
from .exceptions import ErreurCompte
from .filters import AccesDonneesFilter, JournalAuditFilter, libelles_tables
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


# --- ANSM administrators: the audit trail and the patient-data access log -------------------------------------------

PAR_PAGE_AUDIT = 50


def administrateur_requis(vue):
    """Logged-in ANSM administrators only (second factor checked by comptes.middleware); 403 for anyone else."""

    @wraps(vue)
    @login_required
    def enveloppe(request, *args, **kwargs):
        if not request.user.est_administrateur:
            raise PermissionDenied("Cette page est réservée aux administrateurs de l'ANSM.")
        return vue(request, *args, **kwargs)

    return enveloppe


def _fil_ansm(courant: str, *liens: tuple[str, str]) -> dict:
    return _fil(courant, (reverse("ansm:tableau_de_bord"), "Espace ANSM"), *liens)


def _texte(valeur) -> str:
    if valeur is None:
        return "—"
    if isinstance(valeur, dict | list | bool):
        return json.dumps(valeur, ensure_ascii=False)
    return str(valeur)


def _ligne_audit(ligne, tables: dict[str, str]) -> dict:
    """A row as the page shows it: the changed columns before → after, or every column of a created/deleted row."""
    avant, apres = ligne.avant or {}, ligne.apres or {}
    if ligne.operation == OperationAudit.MODIFICATION:
        details = [(c, _texte(avant.get(c)), _texte(apres.get(c))) for c in ligne.colonnes]
    else:
        valeurs = apres if ligne.operation == OperationAudit.CREATION else avant
        details = [(c, _texte(v), "") for c, v in sorted(valeurs.items())]
    return {"objet": ligne, "table": tables.get(ligne.table_nom, ligne.table_nom), "details": details}


def _filtres_appliques(filtre) -> dict:
    if not filtre.is_bound:
        return {}
    return {nom: str(valeur) for nom, valeur in filtre.form.cleaned_data.items() if valeur not in (None, "")}


@require_GET
@administrateur_requis
@never_cache
def audit_journal(request):
    """Search the audit trail: table, request, author, dates, operation; 50 rows a page, two queries."""
    filtre = JournalAuditFilter(request.GET or None, queryset=selectors.journal_audit())
    page = Paginator(filtre.qs, PAR_PAGE_AUDIT).get_page(request.GET.get("page"))
    tables = dict(libelles_tables())
    return render(
        request,
        "ansm/audit.html",
        {
            "title": "Journal d'audit",
            "breadcrumb_data": _fil_ansm("Journal d'audit"),
            "filtre": filtre,
            "page_obj": page,
            "lignes": [_ligne_audit(ligne, tables) for ligne in page.object_list],
            "export": f"{reverse('ansm:audit_export')}?{request.GET.urlencode()}",
        },
        status=400 if filtre.is_bound and not filtre.is_valid() else 200,
    )


@require_GET
@administrateur_requis
@never_cache
def audit_acces(request):
    """Search the log of patient-data reads: request, reader, dates, channel."""
    filtre = AccesDonneesFilter(request.GET or None, queryset=selectors.acces_donnees_patients())
    page = Paginator(filtre.qs, PAR_PAGE_AUDIT).get_page(request.GET.get("page"))
    return render(
        request,
        "ansm/audit_acces.html",
        {
            "title": "Accès aux données des patients",
            "breadcrumb_data": _fil_ansm("Accès aux données des patients"),
            "filtre": filtre,
            "page_obj": page,
            "export": f"{reverse('ansm:audit_acces_export')}?{request.GET.urlencode()}",
        },
        status=400 if filtre.is_bound and not filtre.is_valid() else 200,
    )


def _export(request, *, filtre, journal: str, nom: str, entete: list[str], ligne):
    """The filtered rows as CSV, journaled first as a patient-data export (who, filters, rows up to which id).

    Rows written after the click are left out (id bound), so the journal says exactly what left the service.
    """
    if filtre.is_bound and not filtre.is_valid():
        return HttpResponse(
            "Filtres invalides : corrigez-les sur la page avant de télécharger.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    dernier_id = filtre.qs.values_list("id", flat=True).first()
    lignes = filtre.qs.filter(id__lte=dernier_id) if dernier_id is not None else filtre.qs.none()
    filtres = {**_filtres_appliques(filtre), "jusqu_a_id": dernier_id}
    services.export_donnees_patients_enregistrer(
        utilisateur=request.user,
        journal=journal,
        filtres=filtres,
        lignes=lignes.count(),
        adresse_ip=adresse_ip(request),
    )
    return reponse_csv(
        nom_fichier=f"{nom}-{timezone.localdate():%Y-%m-%d}.csv",
        entete=entete,
        lignes=(ligne(objet) for objet in lignes.iterator(chunk_size=2000)),
    )


def _date_heure(valeur) -> str:
    return timezone.localtime(valeur).isoformat(timespec="seconds")


@require_GET
@administrateur_requis
@never_cache
def audit_journal_export(request):
    tables = dict(libelles_tables())

    def ligne(j):
        return [
            j.pk,
            _date_heure(j.le),
            tables.get(j.table_nom, j.table_nom),
            j.get_operation_display(),
            j.objet_id,
            j.demande_reference,
            j.utilisateur.email if j.utilisateur else "",
            j.requete_id,
            j.role_base,
            ", ".join(j.colonnes),
            "" if j.avant is None else json.dumps(j.avant, ensure_ascii=False, sort_keys=True),
            "" if j.apres is None else json.dumps(j.apres, ensure_ascii=False, sort_keys=True),
        ]

    return _export(
        request,
        filtre=JournalAuditFilter(request.GET or None, queryset=selectors.journal_audit()),
        journal="audit",
        nom="journal-audit",
        entete=[
            "N°",
            "Date",
            "Table",
            "Opération",
            "Ligne",
            "Demande",
            "Utilisateur",
            "Requête",
            "Rôle PostgreSQL",
            "Colonnes modifiées",
            "Avant",
            "Après",
        ],
        ligne=ligne,
    )


@require_GET
@administrateur_requis
@never_cache
def audit_acces_export(request):
    def ligne(a):
        return [
            a.pk,
            _date_heure(a.le),
            a.demande.reference,
            a.utilisateur.email,
            a.utilisateur.get_role_display(),
            a.get_canal_display(),
        ]

    return _export(
        request,
        filtre=AccesDonneesFilter(request.GET or None, queryset=selectors.acces_donnees_patients()),
        journal="acces_donnees_patients",
        nom="acces-donnees-patients",
        entete=["N°", "Date", "Demande", "Utilisateur", "Rôle", "Canal"],
        ligne=ligne,
    )
