"""The legal delays of the référentiel (DOMAIN.md) as constants and pure date arithmetic.

Services enforce them; selectors and pages may read them to explain a deadline. Keeping the numbers here means a
change in the law is one edit.
"""

import calendar
import datetime

# R24: after an AMM, AAC stop at most 3 months later.
DELAI_CESSATION_AAC_MOIS = 3
# R23: the laboratory files its AAP within 12 months of the first AAC (18 for a rare disease) ...
DELAI_DEPOT_AAP_MOIS = 12
DELAI_DEPOT_AAP_MALADIE_RARE_MOIS = 18
# ... which the ANSM may extend by successive extensions of at most 6 months each.
PROLONGATION_AAP_MAX_MOIS = 6
# R38 (and R42 for the historical RTU): a CPC lasts 3 years, renewable.
DUREE_CPC_ANS = 3
# R34: periodicity of the synthesis reports set in the PUT, bounded to keep typos out.
PERIODICITE_RAPPORTS_MAX_MOIS = 60
# Glossary: ATU and RTU were replaced by AAC, AAP and CPC on 1 July 2021.
FIN_DES_ATU_RTU = datetime.date(2021, 7, 1)


def ajouter_mois(date: datetime.date, mois: int) -> datetime.date:
    """The same day `mois` months later, or the month's last day when it has fewer days (31 Jan + 1 = 28/29 Feb)."""
    index = date.month - 1 + mois
    annee, mois_cible = date.year + index // 12, index % 12 + 1
    jour = min(date.day, calendar.monthrange(annee, mois_cible)[1])
    return date.replace(year=annee, month=mois_cible, day=jour)


def ajouter_ans(date: datetime.date, ans: int) -> datetime.date:
    return ajouter_mois(date, 12 * ans)
