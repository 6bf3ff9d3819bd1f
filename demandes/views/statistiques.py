"""The ANSM's statistics page (issue 5): the figures of demandes.statistiques for a period, each chart drawn on the
server as an SVG bar chart (a title and a description for screen readers, no script, no inline style: the CSP
allows it) followed by the table it is drawn from, and each table downloadable as CSV (UTF-8 with BOM, « ; »)."""

import csv
import datetime
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from comptes.enums import Role

from .. import forms
from ..statistiques import libelle_mois, nombre_fr, statistiques_calculer, statistiques_tableaux
from .commun import role_requis

# SVG geometry (user units of the viewBox; the chart scales to its container through CSS).
LARGEUR, MARGE_LIBELLE, LARGEUR_BARRES, HAUTEUR_LIGNE, HAUTEUR_BARRE = 720, 260, 380, 30, 20
LONGUEUR_LIBELLE = 38
BARRES_MAX = 15


def periode_par_defaut(aujourd_hui: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    mois = aujourd_hui.month - 11
    annee = aujourd_hui.year + (mois - 1) // 12
    mois = (mois - 1) % 12 + 1
    return datetime.date(annee, mois, 1), aujourd_hui


def _periode(request) -> tuple[forms.PeriodeForm, datetime.date, datetime.date]:
    debut, fin = periode_par_defaut(timezone.localdate())
    form = forms.PeriodeForm(request.GET or None, initial={"debut": debut, "fin": fin})
    if request.GET and form.is_valid():
        debut, fin = form.cleaned_data["debut"], form.cleaned_data["fin"]
    return form, debut, fin


def _abreger(texte: str) -> str:
    return texte if len(texte) <= LONGUEUR_LIBELLE else texte[: LONGUEUR_LIBELLE - 1].rstrip() + "…"


def graphique(
    identifiant: str, titre: str, description: str, barres: list[tuple[str, float]], unite: str = ""
) -> dict:
    """A horizontal bar chart's geometry: one bar per (label, value), widths proportional to the largest value."""
    barres = barres[:BARRES_MAX]
    maximum = max((v or 0 for _, v in barres), default=0) or 1
    lignes = []
    for rang, (libelle, valeur) in enumerate(barres):
        largeur = round(LARGEUR_BARRES * valeur / maximum, 1) if valeur else 0
        lignes.append(
            {
                "libelle": _abreger(libelle),
                "libelle_complet": libelle,
                "valeur": "—" if valeur is None else f"{valeur:g}".replace(".", ",") + unite,
                # SVG coordinates as text with a dot: the template's localisation would write "380,0".
                "y": str(rang * HAUTEUR_LIGNE),
                "y_texte": str(rang * HAUTEUR_LIGNE + HAUTEUR_BARRE - 5),
                "largeur": f"{largeur:g}",
                "x_valeur": f"{MARGE_LIBELLE + largeur + 6:g}",
            }
        )
    return {
        "id": identifiant,
        "titre": titre,
        "description": description,
        "lignes": lignes,
        "largeur": LARGEUR,
        "hauteur": max(len(lignes), 1) * HAUTEUR_LIGNE,
        "marge": MARGE_LIBELLE,
        "hauteur_barre": HAUTEUR_BARRE,
        "x_libelle": MARGE_LIBELLE - 8,
    }


def _graphiques(stats: dict) -> dict[str, dict]:
    d, delais = stats["decisions"], stats["delais"]
    medicaments = stats["par_medicament"]
    return {
        "par-mois": graphique(
            "graphique-par-mois",
            "Demandes soumises par mois",
            "Diagramme en barres horizontales : nombre de demandes d'AAC soumises à l'ANSM chaque mois de la "
            "période. Les valeurs figurent dans le tableau qui suit.",
            [(libelle_mois(m["mois"]), m["soumises"]) for m in stats["par_mois"]],
        ),
        "par-medicament": graphique(
            "graphique-par-medicament",
            "Demandes par médicament",
            "Diagramme en barres horizontales : nombre de demandes soumises pour les "
            f"{min(len(medicaments), BARRES_MAX)} médicaments les plus demandés. Tous les médicaments figurent dans "
            "le tableau qui suit.",
            [(m["medicament"], m["demandes"]) for m in medicaments],
        ),
        "decisions": graphique(
            "graphique-decisions",
            "Décisions de la période",
            "Diagramme en barres horizontales : octrois immédiats, octrois après évaluation et refus. Les valeurs "
            "figurent dans le tableau qui suit.",
            [
                ("Octrois immédiats (R15)", d["octrois_immediats"]),
                ("Octrois après évaluation", d["octrois"] - d["octrois_immediats"]),
                ("Refus", d["refus"]),
            ],
        ),
        "delais": graphique(
            "graphique-delais",
            "Délai de décision",
            "Diagramme en barres horizontales : médiane et 90e centile du délai entre la soumission et la décision, "
            "en jours, pour toutes les décisions puis pour celles rendues après évaluation. Les valeurs figurent "
            "dans le tableau qui suit.",
            [
                ("Médiane, toutes décisions", delais["median_jours"]),
                ("90e centile, toutes décisions", delais["p90_jours"]),
                ("Médiane, après évaluation", delais["median_evalues_jours"]),
                ("90e centile, après évaluation", delais["p90_evalues_jours"]),
            ],
            unite=" j",
        ),
        "refus-par-motif": graphique(
            "graphique-refus",
            "Refus par motif",
            "Diagramme en barres horizontales : nombre de refus pour chaque motif (R18). Les valeurs figurent dans "
            "le tableau qui suit.",
            [(m["libelle"], m["nombre"]) for m in stats["refus_par_motif"]],
        ),
        "en-attente": graphique(
            "graphique-attente",
            "Demandes en attente, par ancienneté",
            "Diagramme en barres horizontales : demandes en attente de décision de l'ANSM, par ancienneté de leur "
            "soumission. Les valeurs figurent dans le tableau qui suit.",
            [(t["libelle"], t["nombre"]) for t in stats["en_attente"]["tranches"]],
        ),
    }


@require_GET
@role_requis(Role.EVALUATEUR, Role.ADMINISTRATEUR)
def page(request):
    form, debut, fin = _periode(request)
    stats = statistiques_calculer(debut=debut, fin=fin)
    tableaux = statistiques_tableaux(stats)
    graphiques = _graphiques(stats)
    requete = f"debut={debut.isoformat()}&fin={fin.isoformat()}"
    sections = [
        {
            "slug": slug,
            "tableau": tableau,
            "graphique": graphiques.get(slug),
            "csv": f"{reverse('ansm:statistiques_csv', args=[slug])}?{requete}",
        }
        for slug, tableau in tableaux.items()
    ]
    contexte = {
        "title": "Statistiques des demandes d'AAC",
        "breadcrumb_data": {
            "links": [{"url": reverse("ansm:tableau_de_bord"), "title": "Espace ANSM"}],
            "current": "Statistiques",
        },
        "form": form,
        "stats": stats,
        "chiffres": {
            "part_immediats": nombre_fr(stats["decisions"]["part_immediats_octrois"]),
            "mediane": nombre_fr(stats["delais"]["median_jours"]),
            "p90": nombre_fr(stats["delais"]["p90_jours"]),
        },
        "sections": sections,
    }
    return render(request, "demandes/statistiques.html", contexte)


@require_GET
@role_requis(Role.EVALUATEUR, Role.ADMINISTRATEUR)
def export_csv(request, tableau):
    """One table as a CSV file for spreadsheets: UTF-8 with a BOM (so that Excel reads the accents), « ; »."""
    _form, debut, fin = _periode(request)
    tableaux = statistiques_tableaux(statistiques_calculer(debut=debut, fin=fin))
    if tableau not in tableaux:
        raise Http404("Ce tableau n'existe pas.")
    contenu = tableaux[tableau]
    tampon = io.StringIO()
    tampon.write("\ufeff")
    ecrivain = csv.writer(tampon, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow([contenu["titre"], f"du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}"])
    ecrivain.writerow(contenu["entetes"])
    ecrivain.writerows(contenu["lignes"])
    reponse = HttpResponse(tampon.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    reponse["Content-Disposition"] = f'attachment; filename="statistiques-{tableau}-{debut:%Y%m%d}-{fin:%Y%m%d}.csv"'
    return reponse
