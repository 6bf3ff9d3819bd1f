"""What the back-office and the laboratory pages share: who may open them, how a service's error reaches the form,
and one generic form page. Views stay thin: they parse a form, call ONE service, and show its French message."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render

from ..exceptions import ReferentielError

PAR_PAGE = 25


def ansm_requis(vue):
    """ANSM évaluateurs and administrators only: anonymous users go to the login page, other roles get a 403."""

    @wraps(vue)
    @login_required
    def enveloppe(request, *args, **kwargs):
        if not request.user.est_ansm:
            raise PermissionDenied("Cet espace est réservé aux agents de l'ANSM.")
        return vue(request, *args, **kwargs)

    return enveloppe


def laboratoire_requis(vue):
    """Laboratory accounts attached to their laboratory only."""

    @wraps(vue)
    @login_required
    def enveloppe(request, *args, **kwargs):
        if not request.user.est_laboratoire or request.user.laboratoire_id is None:
            raise PermissionDenied("Cet espace est réservé aux laboratoires.")
        return vue(request, *args, **kwargs)

    return enveloppe


def ajouter_erreur(form, exc: ReferentielError) -> None:
    """A service's refusal on the field it names (screen readers announce it there), else on the whole form."""
    champ = exc.champ if exc.champ in form.fields else None
    form.add_error(champ, exc.texte)


def executer(form, appel: Callable[[dict], object]):
    """Run the service on valid data in one transaction; (result, True) or (None, False) with the error on the form."""
    try:
        with transaction.atomic():
            return appel(form.cleaned_data), True
    except ReferentielError as exc:
        ajouter_erreur(form, exc)
        return None, False


def page_formulaire(
    request,
    *,
    form,
    appel: Callable[[dict], object],
    succes: str,
    suite: Callable[[object], str] | str,
    contexte: dict,
    gabarit: str = "gestion/formulaire.html",
):
    """GET shows the form; a valid POST calls the service then redirects (POST/redirect/GET); a refused one shows the
    form again with the service's message and a 400."""
    statut = 200
    if request.method == "POST":
        if form.is_valid():
            resultat, reussi = executer(form, appel)
            if reussi:
                messages.success(request, succes)
                return redirect(suite(resultat) if callable(suite) else suite)
        statut = 400
    return render(request, gabarit, {**contexte, "form": form}, status=statut)


def paginer(request, queryset, par_page: int = PAR_PAGE):
    return Paginator(queryset, par_page).get_page(request.GET.get("page"))


def telecharger(fichier_champ, *, nom: str, type_mime: str) -> FileResponse:
    """A private file (draft PUT, report) streamed as an attachment, never cached by shared caches."""
    if not fichier_champ:
        raise Http404("Aucun fichier n'a été déposé.")
    try:
        fichier = fichier_champ.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("Le fichier est introuvable.") from exc
    reponse = FileResponse(
        fichier, as_attachment=True, filename=nom, content_type=type_mime or "application/octet-stream"
    )
    reponse["Cache-Control"] = "private, no-store"
    return reponse
