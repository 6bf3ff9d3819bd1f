"""Working hours of the ANSM (R44) and calendar arithmetic of the legal delays (R17, R19)."""

import calendar
import datetime

from django.utils import timezone

# R44: outside these hours, weekends and French public holidays, e-Saturne still accepts requests but nobody
# evaluates them; a compliant request goes ahead and is regularised afterwards.
DEBUT_HEURES_OUVREES = datetime.time(9, 0)
FIN_HEURES_OUVREES = datetime.time(18, 0)


def _paques(annee: int) -> datetime.date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = annee % 19, annee // 100, annee % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    mois = (h + ell - 7 * m + 114) // 31
    jour = (h + ell - 7 * m + 114) % 31 + 1
    return datetime.date(annee, mois, jour)


def jours_feries(annee: int) -> frozenset[datetime.date]:
    paques = _paques(annee)
    fixes = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    mobiles = [paques + datetime.timedelta(days=n) for n in (1, 39, 50)]  # lundi de Pâques, Ascension, Pentecôte
    return frozenset([datetime.date(annee, m, j) for m, j in fixes] + mobiles)


def est_hors_heures(moment: datetime.datetime | None = None) -> bool:
    """R44: whether this moment (Paris time) is outside the ANSM's working hours."""
    local = timezone.localtime(moment or timezone.now())
    if local.weekday() >= 5 or local.date() in jours_feries(local.year):
        return True
    return not (DEBUT_HEURES_OUVREES <= local.time() < FIN_HEURES_OUVREES)


def ajouter_mois(date: datetime.date, mois: int) -> datetime.date:
    """The same day `mois` months later, or the month's last day when it has none (31 Dec + 2 months = 28/29 Feb)."""
    index = date.month - 1 + mois
    annee, mois_cible = date.year + index // 12, index % 12 + 1
    return datetime.date(annee, mois_cible, min(date.day, calendar.monthrange(annee, mois_cible)[1]))
