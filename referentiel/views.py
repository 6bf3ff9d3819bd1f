"""Public pages of the référentiel: the searchable list, the fiche, document downloads and CSV exports."""

import functools
import os
from urllib.parse import urlencode

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from . import exports, liens, selectors
from .enums import TYPES_HISTORIQUES, AireTherapeutique, EtatAcces, TypeAcces
from .filters import TRIS, SpecialiteFilterSet, filtres_du_referentiel, page_du_referentiel
from .models import AccesDerogatoire

PAR_PAGE = 20


def _filtres(request) -> SpecialiteFilterSet:
    # Always bound, even to an empty query, so that R1 and the default sort apply.
    return SpecialiteFilterSet(request.GET)


def _url_sans(url_liste: str, paires: list[tuple[str, str]], champ: str, valeur: str | None = None) -> str:
    """The list URL without one filter value (what the removable tag links to), back to page 1."""
    chaine = urlencode([(cle, v) for cle, v in paires if cle != champ or (valeur is not None and v != valeur)])
    return url_liste + (f"?{chaine}" if chaine else "")


def _filtres_actifs(
    filtres: SpecialiteFilterSet, laboratoires: list[tuple[int, str]], *, url_liste: str
) -> list[dict]:
    """The valid filters in use, each a removable tag: label, link without it, and the form control it mirrors."""
    filtres.is_valid()  # an invalid field is left out of cleaned_data, and shown as a form error instead
    donnees = filtres.form.cleaned_data
    paires = [(cle, v) for cle, valeurs in filtres.data.lists() if cle != "page" for v in valeurs]
    actifs = []

    def ajouter(champ, libelle, valeur=None, cible=None):
        actifs.append(
            {
                "libelle": libelle,
                "url": _url_sans(url_liste, paires, champ, valeur),
                "champ": champ,
                "valeur": cible or "",
            }
        )

    if donnees.get("q"):
        ajouter("q", f"Recherche : {donnees['q']}")
    for valeur in donnees.get("type_acces") or []:
        ajouter("type_acces", f"Type : {TypeAcces(valeur).label}", valeur, valeur)
    for valeur in donnees.get("etat") or []:
        ajouter("etat", f"État : {EtatAcces(valeur).label}", valeur, valeur)
    if donnees.get("aire_therapeutique"):
        ajouter("aire_therapeutique", f"Aire : {AireTherapeutique(donnees['aire_therapeutique']).label}")
    if donnees.get("laboratoire"):
        noms = dict(laboratoires)
        ajouter("laboratoire", f"Laboratoire : {noms.get(donnees['laboratoire'].pk, donnees['laboratoire'].nom)}")
    if donnees.get("substance"):
        ajouter("substance", f"Substance : {donnees['substance']}")
    if donnees.get("mitm") is not None:
        ajouter("mitm", "MITM" if donnees["mitm"] else "Hors MITM")
    if donnees.get("recueil_nominatif") is not None:
        ajouter(
            "recueil_nominatif",
            "PUT avec recueil nominatif" if donnees["recueil_nominatif"] else "Sans recueil nominatif",
        )
    if donnees.get("mis_a_jour_depuis"):
        ajouter("mis_a_jour_depuis", f"Mis à jour depuis le {donnees['mis_a_jour_depuis']:%d/%m/%Y}")
    return actifs


def _options(choix, choisi) -> str:
    """The <option>s of a <select> filter, from (value, label) pairs, the chosen value selected."""
    options = _options_html(tuple(choix))
    if choisi not in (None, ""):
        valeur = escape(choisi)
        options = options.replace(f'<option value="{valeur}">', f'<option value="{valeur}" selected>', 1)
    return mark_safe(options)  # noqa: S308 - built by _options_html, the selection adds a constant attribute


@functools.lru_cache(maxsize=8)
def _options_html(choix: tuple[tuple[object, str], ...]) -> str:
    # Built here rather than by a template loop (or format_html per option): there can be hundreds of laboratories,
    # on every list page and htmx swap; and once per list of choices (the key is the list itself: a new or renamed
    # laboratory in selectors.laboratoires_references gives new options). Values and labels are escaped.
    return "".join(f'<option value="{escape(valeur)}">{escape(libelle)}</option>' for valeur, libelle in choix)


_LIBELLE_AIRE = dict(AireTherapeutique.choices)


_MITM = (
    '<li><p class="fr-badge fr-badge--sm fr-badge--warning fr-badge--no-icon">'
    '<abbr title="Médicament d\'intérêt thérapeutique majeur">MITM</abbr></p></li>'
)


def _ligne_html(ligne: dict, url_fiche, fuseau) -> str:
    """The <tr> of a row of selectors.specialites_lignes_page: name and link, DCIs and therapeutic area, status
    badges (and MITM), holder, date of update. Built here rather than by a template loop: twenty rows of a dozen
    variables each were most of the content's rendering time. Every text from the database is escaped."""
    dci = escape(", ".join(ligne["dcis"]))
    aire = _LIBELLE_AIRE.get(ligne["aire_therapeutique"], "")
    badges = "".join(_badge(*badge.split(selectors.SEPARATEUR_BADGE)) for badge in ligne["badges"])
    url = escape(url_fiche(ligne["slug"]))
    return (
        f'<tr><td><a class="fr-link" href="{url}">{escape(ligne["nom"])}'
        f'</a><br><span class="fr-text--sm">{dci}{f" — {escape(aire)}" if aire else ""}</span></td>'
        f'<td><ul class="fr-badges-group">{badges}{_MITM if ligne["mitm"] else ""}</ul></td>'
        f"<td>{escape(ligne['titulaire_nom'] or '—')}</td>"
        f"<td>{ligne['mis_a_jour_le'].astimezone(fuseau):%d/%m/%Y}</td></tr>"
    )


@functools.lru_cache(maxsize=64)
def _badge(type_acces: str, etat: str) -> str:
    """A status's badge on the list, as an <li>: the fiche's and the back-office's badge (_badge_acces.html), rendered
    once for each of the few combinations of type and state."""
    badge = render_to_string(
        "referentiel/_badge_acces.html",
        {"a": AccesDerogatoire(type_acces=type_acces, etat=etat), "types_historiques": TYPES_HISTORIQUES},
    )
    return f"<li>{badge.strip()}</li>"  # escaped by the template engine


def _numero_page(valeur) -> int:
    try:
        return max(1, int(valeur))
    except (TypeError, ValueError):
        return 1


def _tris(donnees: dict) -> dict:
    """Sort options of the page. The empty value is the default (relevance with a search, else name), so that
    typing a search after sorting by default switches to relevance, with or without JavaScript."""
    libelles = dict(TRIS)
    tri = donnees.get("tri") or ""
    if donnees.get("q"):
        options = [("", libelles["pertinence"]), ("nom", libelles["nom"])]
        choisi = "" if tri == "pertinence" else tri
    else:
        options = [("", libelles["nom"])]
        choisi = "" if tri in ("pertinence", "nom") else tri
    options.append(("-mis_a_jour_le", libelles["-mis_a_jour_le"]))
    return {"tris": options, "tri": choisi}


def _pagination(page, parametres: str) -> dict:
    """Links of the DSFR pagination: first, previous, numbers (first, last, two around), next, last."""

    def url(numero: int) -> str:
        return f"?{parametres}&page={numero}" if parametres else f"?page={numero}"

    total = page.paginator.num_pages
    numeros = sorted({1, total, *range(max(1, page.number - 2), min(total, page.number + 2) + 1)})
    liens, precedent = [], 0
    for numero in numeros:
        if numero - precedent > 1:
            liens.append(None)
        liens.append({"numero": numero, "url": url(numero), "courant": numero == page.number})
        precedent = numero
    return {
        "premiere": url(1) if page.has_previous() else None,
        "precedente": url(page.previous_page_number()) if page.has_previous() else None,
        "suivante": url(page.next_page_number()) if page.has_next() else None,
        "derniere": url(total) if page.has_next() else None,
        "liens": liens,
    }


@require_GET
def liste(request):
    """R1, R3: the searchable, filterable list; htmx asks only for the results region."""
    partiel = bool(request.htmx) and not request.htmx.history_restore_request
    cle = f"liste|{int(partiel)}|{request.GET.urlencode()}"
    contenu = selectors.page_en_cache(cle, lambda: _contenu_liste(request, partiel), pour=request.user)
    if partiel:
        reponse = HttpResponse(contenu)
    else:
        contexte = {
            "title": "Référentiel des accès dérogatoires",
            "breadcrumb_data": {"current": "Référentiel"},
            "contenu": contenu,
        }
        reponse = render(request, "referentiel/liste.html", contexte)
    # The same URL answers a full page or a fragment: caches must keep them apart.
    patch_vary_headers(reponse, ["HX-Request"])
    return reponse


def _contenu_liste(request, partiel: bool) -> str:
    """The list's content (filters, results, pagination), or only its results region for htmx."""
    filtres, page = page_du_referentiel(
        filtres_du_referentiel(request.GET),
        numero=_numero_page(request.GET.get("page")),
        par_page=PAR_PAGE,
        lignes=selectors.specialites_lignes_page,
    )
    laboratoires = selectors.laboratoires_references()
    url_fiche = liens.url_fiche_par_slug()
    fuseau = timezone.get_current_timezone()
    lignes = mark_safe("".join(_ligne_html(ligne, url_fiche, fuseau) for ligne in page.object_list))  # noqa: S308
    donnees = filtres.form.cleaned_data
    url_liste = reverse("referentiel:liste")
    parametres = request.GET.copy()
    parametres.pop("page", None)
    sans_page = parametres.urlencode()
    contexte = {
        "url_liste": url_liste,
        "filtres": filtres,
        "form": filtres.form,
        "page": page,
        "lignes": lignes,
        "pagination": _pagination(page, sans_page),
        "filtres_actifs": _filtres_actifs(filtres, laboratoires, url_liste=url_liste),
        "options_laboratoires": _options(laboratoires, getattr(donnees.get("laboratoire"), "pk", None)),
        "options_aires": _options(AireTherapeutique.choices, donnees.get("aire_therapeutique")),
        "types_acces": TypeAcces.choices,
        "etats": EtatAcces.choices,
        **_tris(donnees),
        "export_url": reverse("referentiel:export") + (f"?{sans_page}" if sans_page else ""),
        "partiel": partiel,
    }
    # Without the request: the content is the same for every anonymous visitor, and the context processors (menu,
    # links, banner) are for the layout around it.
    return render_to_string("referentiel/_resultats.html" if partiel else "referentiel/_liste.html", contexte)


@require_GET
def export_liste(request):
    """The current filtered list (same query string as the page) as CSV, every row, not one page."""
    filtres = _filtres(request)
    specialites = selectors.specialites_pour_liste(filtres.qs).iterator(chunk_size=500)
    url_base = request.build_absolute_uri("/").rstrip("/")
    return exports.reponse_csv(
        nom_fichier=f"referentiel-acces-derogatoires-{timezone.localdate():%Y-%m-%d}.csv",
        entete=exports.ENTETE_SPECIALITES,
        lignes=exports.lignes_specialites(specialites, url_base=url_base),
    )


def _acces_tries(specialite) -> list:
    # In force first, then suspended, then ended; most recent first within each.
    return sorted(
        specialite.acces_publics,
        key=lambda a: (selectors.ORDRE_ETAT.get(a.etat, 9), -(a.date_debut.toordinal() if a.date_debut else 0)),
    )


@require_GET
def fiche(request, slug: str):
    """R2: a spécialité's fiche, with the sections its statuses require."""
    nom, contenu = selectors.page_en_cache(f"fiche|{slug}", lambda: _contenu_fiche(slug), pour=request.user)
    contexte = {
        "title": nom,
        "breadcrumb_data": {"links": [{"url": reverse("referentiel:liste"), "title": "Référentiel"}], "current": nom},
        "contenu": contenu,
    }
    return render(request, "referentiel/fiche.html", contexte)


def _contenu_fiche(slug: str) -> tuple[str, str]:
    """(name, content) of the fiche; Http404 when it is not in the référentiel."""
    specialite = selectors.specialite_fiche(slug=slug)
    if specialite is None:
        raise Http404("Cette fiche n'existe pas ou n'est pas publiée.")
    acces = _acces_tries(specialite)
    historique = sorted(
        specialite.acces_publics, key=lambda a: (a.date_debut.toordinal() if a.date_debut else 0, a.pk)
    )
    contexte = {
        "specialite": specialite,
        "acces": acces,
        "historique": historique if len(historique) > 1 else [],
        "compositions": specialite.compositions_liste,
        "cpd_bdpm": specialite.cpd_liste,
        "documents": specialite.documents_publics,
        "types_historiques": TYPES_HISTORIQUES,
        "a_des_aac": any(a.type_acces in (TypeAcces.AAC, TypeAcces.ATUN) for a in acces),
    }
    return specialite.nom, render_to_string("referentiel/_fiche.html", contexte)  # without the request: see liste


@require_GET
def export_indications(request, slug: str):
    """A fiche's indications and critères d'octroi as CSV, one line per criterion."""
    specialite = selectors.specialites_publiques().filter(slug=slug).first()
    if specialite is None:
        raise Http404("Cette fiche n'existe pas ou n'est pas publiée.")
    return exports.reponse_csv(
        nom_fichier=f"indications-{specialite.slug}.csv",
        entete=exports.ENTETE_INDICATIONS,
        lignes=exports.lignes_indications(selectors.indications_export(specialite=specialite)),
    )


@require_GET
def document(request, document_id: int):
    """A public document of a published fiche, streamed as an attachment; everything else is a 404."""
    document = selectors.document_public(document_id=document_id)
    if document is None:
        raise Http404("Ce document n'existe pas ou n'est pas public.")
    try:
        fichier = document.fichier.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("Le fichier de ce document est introuvable.") from exc
    reponse = FileResponse(
        fichier,
        as_attachment=True,
        filename=os.path.basename(document.fichier.name),
        content_type=document.type_mime or "application/octet-stream",
    )
    patch_cache_control(reponse, public=True, max_age=300)
    return reponse
