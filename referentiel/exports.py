"""CSV exports of the référentiel, shaped for French Excel: UTF-8 with a BOM, `;` separator, streamed."""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from .models import Indication, Specialite

BOM = "\ufeff"
SEPARATEUR = ";"
# A cell starting with one of these is read as a formula by spreadsheets (CSV injection): it gets a quote first.
_DEBUTS_FORMULE = ("=", "+", "-", "@", "\t", "\r")


class _Tampon:
    """A file-like object whose write() hands back the line, so csv.writer can feed a generator."""

    def write(self, valeur: str) -> str:
        return valeur


def _cellule(valeur) -> str:
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    texte = str(valeur)
    return "'" + texte if texte.startswith(_DEBUTS_FORMULE) else texte


def _lignes(entete: list[str], lignes: Iterable[list]) -> Iterator[bytes]:
    ecrivain = csv.writer(_Tampon(), delimiter=SEPARATEUR, lineterminator="\r\n")
    yield (BOM + ecrivain.writerow(entete)).encode("utf-8")
    for ligne in lignes:
        yield ecrivain.writerow([_cellule(v) for v in ligne]).encode("utf-8")


def reponse_csv(*, nom_fichier: str, entete: list[str], lignes: Iterable[list]) -> StreamingHttpResponse:
    reponse = StreamingHttpResponse(_lignes(entete, lignes), content_type="text/csv; charset=utf-8")
    reponse["Content-Disposition"] = f'attachment; filename="{nom_fichier}"'
    return reponse


def _date(valeur) -> str:
    if valeur is None:
        return ""
    if hasattr(valeur, "tzinfo"):
        valeur = timezone.localtime(valeur)
    return valeur.strftime("%d/%m/%Y")


ENTETE_SPECIALITES = [
    "Spécialité",
    "DCI",
    "Dosages",
    "Forme pharmaceutique",
    "Voies d'administration",
    "Accès dérogatoires",
    "Aire thérapeutique",
    "MITM",
    "Laboratoire titulaire",
    "Laboratoire exploitant",
    "Code CIS",
    "Code ATC",
    "Mis à jour le",
    "Fiche",
]


def lignes_specialites(specialites: Iterable[Specialite], *, url_base: str) -> Iterator[list]:
    """One line per spécialité; `specialites` comes from selectors.specialites_pour_liste."""
    for sp in specialites:
        compositions = list(sp.compositions.all())
        yield [
            sp.nom,
            ", ".join(c.substance.dci for c in compositions),
            ", ".join(c.dosage for c in compositions if c.dosage),
            sp.forme_pharmaceutique,
            sp.voies_administration,
            ", ".join(f"{a.type_acces} ({a.get_etat_display().lower()})" for a in sp.acces_publics),
            sp.get_aire_therapeutique_display(),
            sp.mitm,
            sp.titulaire.nom if sp.titulaire else "",
            sp.exploitant.nom if sp.exploitant else "",
            sp.cis or "",
            sp.code_atc,
            _date(sp.mis_a_jour_le),
            url_base + reverse("referentiel:fiche", args=[sp.slug]),
        ]


ENTETE_INDICATIONS = [
    "Type d'accès",
    "État",
    "Indication",
    "Patients éligibles",
    "Maladie rare",
    "Restriction liée à une AAP",
    "N° du critère",
    "Critère d'octroi",
]


def lignes_indications(indications: Iterable[Indication]) -> Iterator[list]:
    """One line per critère d'octroi (an indication without criteria still gets its line)."""
    for indication in indications:
        debut = [
            indication.acces.get_type_acces_display(),
            indication.acces.get_etat_display(),
            indication.libelle,
            indication.patients_eligibles,
            indication.maladie_rare,
            indication.restriction_aap,
        ]
        criteres = list(indication.criteres.all())
        if not criteres:
            yield [*debut, "", ""]
        for numero, critere in enumerate(criteres, start=1):
            yield [*debut, numero, critere.libelle]
