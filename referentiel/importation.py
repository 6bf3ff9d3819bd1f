"""Import of the public BDPM files (CIS_bdpm.txt, CIS_COMPO_bdpm.txt, CIS_CPD_bdpm.txt) into the catalogue.

The files are Windows-1252, TAB-separated, without header or quoting, with mixed line endings, a trailing TAB on
COMPO lines and blank CPD lines. Every line is checked in Python first: a malformed one is rejected with its line
number and reason and the rest goes on. The valid rows are then streamed with COPY into temporary tables and merged
by a handful of set-based statements (INSERT ... ON CONFLICT, UPDATE ... FROM, DELETE ... USING), all in ONE
transaction: a fatal problem leaves nothing half-imported, and a second run of the same files changes nothing.

Spécialités imported without a derogatory status stay out of the public référentiel (R1): they serve the
back-office (pick a spécialité when creating a fiche) and the AMM check of requests (R5).
"""

import datetime
import gc
import re
import struct
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from tqdm import tqdm

from comptes import audit

from .enums import StatutAMM
from .exceptions import ReferentielError
from .models import AccesDerogatoire, HistoriqueFiche, Specialite
from .services import specialites_indexer

FICHIER_CIS = "CIS_bdpm.txt"
FICHIER_COMPO = "CIS_COMPO_bdpm.txt"
FICHIER_CPD = "CIS_CPD_bdpm.txt"
FICHIERS = (FICHIER_CIS, FICHIER_COMPO, FICHIER_CPD)
ENCODAGE = "cp1252"

_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
# Lengths of the columns the rows land in (referentiel/models.py).
_MAX_NOM, _MAX_FORME, _MAX_STATUT, _MAX_LABO = 500, 250, 100, 200
_MAX_DCI, _MAX_CODE, _MAX_DOSAGE, _MAX_CPD = 250, 10, 250, 500
_MAX_RESTRICTION = 500
_OCTETS_ASCII = bytes(range(128))
_TIRETS = re.compile(rb"--+")
# Fiche addresses (see _slugs).
_VERS_TIRET = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789\n" else ord("-") for c in range(256))
_OBJET_UTILISE = "55006"  # PostgreSQL's object_in_use


@dataclass
class Rejet:
    ligne: int
    motif: str


@dataclass
class Bilan:
    """What the import did with one file (or one kind of row)."""

    nom: str
    lignes: int = 0
    crees: int = 0
    mis_a_jour: int = 0
    inchanges: int = 0
    supprimes: int = 0
    ignores: int = 0
    rejets: list[Rejet] = field(default_factory=list)

    def rejeter(self, ligne: int, motif: str) -> None:
        self.rejets.append(Rejet(ligne, motif))


@dataclass
class RapportImport:
    bilans: dict[str, Bilan]
    # Spécialités of the référentiel (holding a status) whose search document changed with the BDPM; catalogue rows
    # keep none (see _SQL_SPECIALITES_CREER).
    specialites_reindexees: int = 0
    # Into an empty catalogue, indexes and constraints were built after the rows (see _demonter).
    premier_chargement: bool = False
    duree: float = 0.0

    @property
    def rejets(self) -> int:
        return sum(len(b.rejets) for b in self.bilans.values())


@dataclass
class _Lecture:
    """A file read by the other thread (see _Donnees): started once, its result taken once it is done, then checked
    in this thread (its progress, a file with every line wrong)."""

    lire: Callable[[], Any]
    verifier: Callable[[], None]
    en_fond: Callable[..., Future]
    _lecture: Future | None = None
    _verifiee: bool = False

    def commencer(self) -> Future:
        if self._lecture is None:
            self._lecture = self.en_fond(self.lire)
        return self._lecture

    def resultat(self) -> Any:
        resultat = self.commencer().result()
        if not self._verifiee:
            self._verifiee = True
            self.verifier()
        return resultat


@dataclass
class _Donnees:
    """The valid rows of the three files, ready to be copied. While PostgreSQL writes and journals the spécialités
    (the import's longest wait, see _charger_specialites), the other thread (`en_fond`, see bdpm_importer) reads the
    composition file and, into an empty catalogue, packs the compositions and CPD for their COPY. It works only
    during that one long wait: during a run of short queries, each answer would wait for that thread to give back
    Python's lock (GIL), up to 5 ms each time."""

    # Runs a function in the other thread (ThreadPoolExecutor.submit: one thread, in the order given).
    en_fond: Callable[..., Future]
    # The CIS file's valid rows, by CIS (_lire_cis), and the CPD file's (_lire_cpd). A CIS row: cis, nom, forme,
    # voies, titulaire, statut, etat, statut_amm, date_amm, reserve_hospitalier, restriction (R28), titulaires.
    cis: dict[str, tuple]
    cpd: list[tuple[str, str]]
    lecture_compo: _Lecture | None  # gives (compositions, substances)
    laboratoires: set[str] = field(default_factory=set)
    # The CIS rows in CIS order, with the R28 fields their CPD give.
    specialites: list[tuple] = field(default_factory=list)
    substances: list[tuple[str, str]] = field(default_factory=list)
    compositions: list[tuple] = field(default_factory=list)
    # (number of compositions, their COPY bytes, the CPD's COPY bytes), once asked for (_charger_lignes).
    preparation: Future | None = None

    def __post_init__(self):
        for ligne in self.cis.values():
            self.laboratoires.update(ligne[11])
        # The R28 fields: only the CIS that have some in the CPD get a new row.
        for cis, champs in _cpd_de_specialites(self.cpd).items():
            ligne = self.cis[cis]
            self.cis[cis] = (*ligne[:9], *champs, ligne[11])
        self.specialites = [self.cis[cis] for cis in sorted(self.cis)]

    def attendre_compo(self) -> None:
        self.compositions, self.substances = self.lecture_compo.resultat()

    def liberer(self) -> None:
        """Once the rows are copied: let the other thread free them (a hundred thousand objects, some 15 ms) while
        PostgreSQL builds the indexes. The task it runs holds their last references, dropped in that thread."""
        restes = (self.cis, self.cpd, self.specialites, self.compositions, self.substances, self.lecture_compo)
        self.cis, self.cpd, self.specialites, self.compositions, self.substances = {}, [], [], [], []
        self.lecture_compo = self.preparation = None
        self.en_fond(len, restes)

    def preparer_en_fond(self, specialite: dict[str, int], premiere_substance: int) -> None:
        """Once the composition file is read, pack the compositions and CPD in the other thread, with the ids the
        spécialités and substances will have (reserved, see _charger_specialites)."""
        lecture = self.lecture_compo.commencer()

        def preparer():
            compositions, substances = lecture.result()
            return _lignes_binaires(
                compositions, _ids_substances(substances, premiere_substance), self.cpd, specialite
            )

        self.preparation = self.en_fond(preparer)


# --- Reading --------------------------------------------------------------------------------------------------
# These loops run once per line of files of tens of thousands of lines: they avoid per-line function calls and
# regular expressions where a plain string test decides (the import's own time is measured against a COPY).


def _lignes(contenu: bytes, bilan: Bilan, progression: tqdm) -> list[tuple[int, str]]:
    """(number, text) of each non-blank line; a line with a byte Windows-1252 does not define is rejected."""
    # The files mix CRLF and LF (and an old file may hold a bare CR): bytes.splitlines() splits at the three alone,
    # in one pass in C (str.splitlines() would also split at other control characters).
    brutes = contenu.splitlines()
    try:
        lignes = b"\n".join(brutes).decode(ENCODAGE).split("\n")
    except UnicodeDecodeError:
        lignes = []
        for numero, brute in enumerate(brutes, 1):
            try:
                lignes.append(brute.decode(ENCODAGE))
            except UnicodeDecodeError as exc:
                bilan.lignes += 1
                bilan.rejeter(
                    numero, f"octet 0x{brute[exc.start]:02X} indéfini en Windows-1252 (position {exc.start + 1})"
                )
                lignes.append("")
    retenues = [(numero, ligne) for numero, ligne in enumerate(lignes, 1) if ligne and not ligne.isspace()]
    bilan.lignes += len(retenues)
    if b"\x00" in contenu:
        for numero, ligne in retenues:
            if "\x00" in ligne:
                bilan.rejeter(numero, "caractère nul dans la ligne")
        retenues = [(numero, ligne) for numero, ligne in retenues if "\x00" not in ligne]
    progression.update(len(lignes))
    return retenues


def _colonnes(ligne: str, attendu: int) -> list[str] | None:
    colonnes = ligne.split("\t")
    # CIS_COMPO (and CIS_GENER) lines end with an extra TAB: an empty last column is not a column.
    if len(colonnes) == attendu + 1 and not colonnes[-1].strip():
        colonnes.pop()
    return colonnes if len(colonnes) == attendu else None


def _date(texte: str) -> datetime.date | None:
    correspondance = _DATE.fullmatch(texte)
    if not correspondance:
        raise ValueError
    jour, mois, annee = map(int, correspondance.groups())
    return datetime.date(annee, mois, jour)


def _trop_long(valeurs: tuple[tuple[str, str, int], ...]) -> str | None:
    for libelle, valeur, maximum in valeurs:
        if len(valeur) > maximum:
            return f"{libelle} trop long ({len(valeur)} caractères, {maximum} au plus)"
    return None


def _cis_valide(cis: str) -> bool:
    return len(cis) == 8 and cis.isascii() and cis.isdigit()


def statut_amm_bdpm(statut_administratif: str, etat_commercialisation: str) -> str:
    """R5: an active AMM of a marketed product is an AMM; anything else (withdrawn, suspended, not marketed) is a
    stopped one, which may leave room for an AAC in an indication the initial AMM did not cover."""
    if statut_administratif == "Autorisation active" and etat_commercialisation == "Commercialisée":
        return StatutAMM.AUTORISEE
    return StatutAMM.ARRETEE


def _lire_cis(contenu: bytes, bilan: Bilan, progression: tqdm) -> dict[str, tuple]:
    specialites: dict[str, tuple] = {}
    premiere_ligne: dict[str, int] = {}
    dates: dict[str, datetime.date | None] = {"": None}  # a few thousand distinct dates for 14,000 lines
    statuts_amm: dict[tuple[str, str], str] = {}  # a dozen pairs of states
    for numero, ligne in _lignes(contenu, bilan, progression):
        colonnes = ligne.split("\t")
        if len(colonnes) != 12:
            colonnes = _colonnes(ligne, 12)
            if colonnes is None:
                bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 12")
                continue
        cis = colonnes[0].strip()
        if not (len(cis) == 8 and cis.isdigit() and cis.isascii()):  # _cis_valide, inlined: once per line
            bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            continue
        if cis in premiere_ligne:
            bilan.rejeter(numero, f"code CIS {cis} en double (déjà ligne {premiere_ligne[cis]})")
            continue
        nom = colonnes[1].strip()
        if not nom:
            bilan.rejeter(numero, "dénomination vide")
            continue
        texte_date = colonnes[7].strip()
        if texte_date in dates:
            date_amm = dates[texte_date]
        else:
            try:
                date_amm = dates[texte_date] = _date(texte_date)
            except ValueError:
                bilan.rejeter(numero, f"date d'AMM « {texte_date} » invalide : JJ/MM/AAAA attendu")
                continue
        forme, voies = colonnes[2].strip(), colonnes[3].strip()
        statut, etat = colonnes[4].strip(), colonnes[6].strip()
        titulaire = colonnes[10]
        if ";" in titulaire:
            titulaires = tuple(t.strip() for t in titulaire.split(";") if t and not t.isspace())
        else:
            titulaire = titulaire.strip()
            titulaires = (titulaire,) if titulaire else ()
        if len(ligne) > _MAX_FORME:  # only a long line may hold a too long field
            motif = _trop_long(
                (
                    ("dénomination", nom, _MAX_NOM),
                    ("forme pharmaceutique", forme, _MAX_FORME),
                    ("voies d'administration", voies, _MAX_FORME),
                    ("statut administratif", statut, _MAX_STATUT),
                    ("état de commercialisation", etat, _MAX_STATUT),
                    *(("nom du titulaire", t, _MAX_LABO) for t in titulaires),
                )
            )
            if motif:
                bilan.rejeter(numero, motif)
                continue
        premiere_ligne[cis] = numero
        specialites[cis] = (
            cis,
            nom,
            forme,
            voies,
            titulaires[0] if titulaires else None,
            statut,
            etat,
            statuts_amm.get((statut, etat)) or statuts_amm.setdefault((statut, etat), statut_amm_bdpm(statut, etat)),
            date_amm,
            False,  # R28 fields, from the CPD file (see _Donnees)
            "",
            titulaires,
        )
    return specialites


def _lire_compo(contenu: bytes, bilan: Bilan, connus: dict, progression: tqdm) -> tuple[list, list]:
    """Valid composition rows, and one name per substance code (the BDPM spells some codes several ways)."""
    lignes: list[tuple] = []
    noms_par_code: dict[str, dict[str, int]] = {}
    for numero, ligne in _lignes(contenu, bilan, progression):
        colonnes = ligne.split("\t")
        if len(colonnes) != 9 or colonnes[8]:  # the usual line: 8 columns and the trailing TAB
            colonnes = _colonnes(ligne, 8)
            if colonnes is None:
                bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 8")
                continue
        cis = colonnes[0].strip()
        if cis not in connus:
            if not _cis_valide(cis):
                bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            else:
                bilan.rejeter(numero, f"code CIS {cis} absent de {FICHIER_CIS} (ou rejeté)")
            continue
        code, dci = colonnes[2].strip(), colonnes[3].strip()
        if not code or not dci:
            bilan.rejeter(numero, "code ou dénomination de la substance vide")
            continue
        nature = colonnes[6].strip()
        if nature != "SA" and nature != "FT":
            bilan.rejeter(numero, f"nature du composant « {nature} » inconnue : SA ou FT attendu")
            continue
        dosage, reference = colonnes[4].strip(), colonnes[5].strip()
        if len(code) > _MAX_CODE or len(ligne) > _MAX_DOSAGE:
            motif = _trop_long(
                (
                    ("code de la substance", code, _MAX_CODE),
                    ("dénomination de la substance", dci, _MAX_DCI),
                    ("dosage", dosage, _MAX_DOSAGE),
                    ("référence du dosage", reference, _MAX_DOSAGE),
                )
            )
            if motif:
                bilan.rejeter(numero, motif)
                continue
        noms = noms_par_code.get(code)
        if noms is None:
            noms_par_code[code] = {dci: 1}
        else:
            noms[dci] = noms.get(dci, 0) + 1
        lignes.append((cis, code, dosage, reference))

    # One name per code: the most frequent spelling (max() keeps the first seen on ties). Codes that end up with the
    # same name (case aside) are one substance: its DCI is unique.
    nom_du_code = {code: max(noms, key=noms.__getitem__) for code, noms in noms_par_code.items()}
    code_du_nom: dict[str, str] = {}
    for code in sorted(nom_du_code):
        code_du_nom.setdefault(nom_du_code[code].casefold(), code)
    canonique = {code: code_du_nom[nom.casefold()] for code, nom in nom_du_code.items()}
    substances = [(code, nom_du_code[code]) for code in sorted(set(canonique.values()))]

    compositions, vues = [], set()
    for cis, code, dosage, reference in lignes:
        code = canonique[code]
        cle = (cis, code, dosage)
        # The same substance and dosage in two elements of one spécialité (day and night tablets, homeopathic
        # forms) is one composition line for the catalogue.
        if cle in vues:
            bilan.ignores += 1
            continue
        vues.add(cle)
        compositions.append((cis, code, dosage, reference))
    return compositions, substances


def _lire_cpd(contenu: bytes, bilan: Bilan, connus: dict, progression: tqdm) -> list[tuple[str, str]]:
    conditions, vues = [], set()
    for numero, ligne in _lignes(contenu, bilan, progression):
        colonnes = ligne.split("\t")
        if len(colonnes) != 2:
            colonnes = _colonnes(ligne, 2)
            if colonnes is None:
                bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 2")
                continue
        cis, texte = colonnes[0].strip(), colonnes[1].strip()
        if cis not in connus:
            if not _cis_valide(cis):
                bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            else:
                bilan.rejeter(numero, f"code CIS {cis} absent de {FICHIER_CIS} (ou rejeté)")
            continue
        if not texte:
            bilan.ignores += 1
            continue
        if len(texte) > _MAX_CPD:
            bilan.rejeter(numero, f"condition trop longue ({len(texte)} caractères, {_MAX_CPD} au plus)")
            continue
        cle = (cis, texte)
        if cle in vues:
            bilan.ignores += 1
            continue
        vues.add(cle)
        conditions.append(cle)
    return conditions


def _cpd_de_specialites(conditions: list[tuple[str, str]]) -> dict[str, tuple[bool, str]]:
    """R28 fields a new spécialité starts with, per CIS: hospital-only use and prescriber restrictions, from its
    CPD (a CIS absent from the result has neither). The same few hundred texts recur on thousands of lines: each is
    read once."""
    sens: dict[str, tuple[bool, bool]] = {}
    reserves: set[str] = set()
    restrictions_par_cis: dict[str, list[str]] = {}
    for cis, texte in conditions:
        hospitalier_restreint = sens.get(texte)
        if hospitalier_restreint is None:
            minuscules = texte.casefold()
            hospitalier_restreint = sens[texte] = (
                "usage hospitalier" in minuscules,
                minuscules.startswith("prescription") and "réservée" in texte,
            )
        if hospitalier_restreint[0]:
            reserves.add(cis)
        if hospitalier_restreint[1]:
            restrictions_par_cis.setdefault(cis, []).append(texte)
    champs = {}
    for cis in reserves | restrictions_par_cis.keys():
        restrictions = " ; ".join(restrictions_par_cis.get(cis, ()))
        if len(restrictions) > _MAX_RESTRICTION:
            restrictions = restrictions[: _MAX_RESTRICTION - 1] + "…"
        champs[cis] = (cis in reserves, restrictions)
    return champs


# --- Writing --------------------------------------------------------------------------------------------------
# Two ways in, one result. Into an empty catalogue (the first import), the rows are copied straight into the
# tables, whose secondary indexes and constraints are built afterwards (see _demonter). Into a catalogue that has
# rows, they are copied into temporary tables and merged by a handful of set-based statements (INSERT ... WHERE NOT
# EXISTS, UPDATE ... FROM, DELETE ... USING) that change only what differs.


# Temporary tables vanish at commit; each is also dropped before it is created so that two imports in one
# transaction (tests run inside one) do not meet. No primary key nor ANALYZE: the rows are unique by construction
# (checked in Python), the merges join them by hash, and the planner reads their size from the table itself.
def _noms(colonnes: str) -> str:
    return ", ".join(colonne.split()[0] for colonne in colonnes.split(", "))


_TEMPORAIRES = {
    "bdpm_specialite": (
        "cis text, nom text, slug text, forme text, voies text, titulaire text, statut_administratif text, "
        "etat_commercialisation text, statut_amm text, date_amm date, reserve_hospitalier bool, restriction text"
    ),
    "bdpm_substance": "code text, dci text",
    "bdpm_composition": "cis text, substance_id int8, dosage text, reference text",
    "bdpm_cpd": "cis text, texte text",
}

# The laboratories (a few hundred names) are given as one array: no temporary table to create.
_SQL_LABORATOIRES_CREER = """
WITH crees AS (
    INSERT INTO referentiel_laboratoire (nom, est_titulaire, est_exploitant, email, telephone, adresse)
    SELECT nom, true, false, '', '', '' FROM unnest(%(noms)s::text[]) AS nom ORDER BY nom
    ON CONFLICT (nom) DO NOTHING RETURNING 1
) SELECT count(*) FROM crees
"""
_SQL_LABORATOIRES_MARQUER = """
UPDATE referentiel_laboratoire SET est_titulaire = true WHERE nom = ANY(%(noms)s::text[]) AND NOT est_titulaire
"""
_SQL_LABORATOIRES_IDS = "SELECT nom, id FROM referentiel_laboratoire WHERE nom = ANY(%(noms)s::text[])"

# Substances are matched by BDPM code first, then by DCI (case aside) for one created by hand or by the demo.
_SQL_SUBSTANCES_RENOMMER = """
UPDATE referentiel_substance s SET dci = b.dci
FROM bdpm_substance b
WHERE s.code_bdpm = b.code AND lower(s.dci) <> lower(b.dci)
  AND NOT EXISTS (SELECT 1 FROM referentiel_substance o WHERE lower(o.dci) = lower(b.dci) AND o.id <> s.id)
RETURNING s.id
"""
_SQL_SUBSTANCES_RATTACHER = """
UPDATE referentiel_substance s SET code_bdpm = b.code
FROM bdpm_substance b
WHERE s.code_bdpm IS NULL AND lower(s.dci) = lower(b.dci)
  AND NOT EXISTS (SELECT 1 FROM referentiel_substance o WHERE o.code_bdpm = b.code)
"""
_SQL_SUBSTANCES_CREER = """
INSERT INTO referentiel_substance (dci, code_bdpm)
SELECT b.dci, b.code FROM bdpm_substance b
WHERE NOT EXISTS (SELECT 1 FROM referentiel_substance s WHERE s.code_bdpm = b.code)
  AND NOT EXISTS (SELECT 1 FROM referentiel_substance s WHERE lower(s.dci) = lower(b.dci))
ORDER BY b.code
"""
# The substance each BDPM code ended up as: the one with that code, else the one with that DCI (case aside).
_SQL_SUBSTANCES_RESOUDRE = """
SELECT DISTINCT ON (b.code) b.code, coalesce(s1.id, s2.id)
FROM bdpm_substance b
LEFT JOIN referentiel_substance s1 ON s1.code_bdpm = b.code
LEFT JOIN referentiel_substance s2 ON s1.id IS NULL AND lower(s2.dci) = lower(b.dci)
ORDER BY b.code, s2.id
"""

_COLONNES_COMPAREES = """
    (sp.nom, sp.forme_pharmaceutique, sp.voies_administration, sp.titulaire_id, sp.statut_administratif_bdpm,
     sp.etat_commercialisation_bdpm, sp.statut_amm, sp.date_amm)
    IS DISTINCT FROM
    (b.nom, b.forme, b.voies, l.id, b.statut_administratif, b.etat_commercialisation, b.statut_amm, b.date_amm)
"""
# The slug (the fiche's address) is never changed afterwards: links to a fiche must keep working.
_SQL_SPECIALITES_METTRE_A_JOUR = f"""
UPDATE referentiel_specialite sp SET
    nom = b.nom, forme_pharmaceutique = b.forme, voies_administration = b.voies, titulaire_id = l.id,
    statut_administratif_bdpm = b.statut_administratif, etat_commercialisation_bdpm = b.etat_commercialisation,
    statut_amm = b.statut_amm, date_amm = b.date_amm, mis_a_jour_le = %(maintenant)s
FROM bdpm_specialite b LEFT JOIN referentiel_laboratoire l ON l.nom = b.titulaire
WHERE sp.cis = b.cis AND {_COLONNES_COMPAREES}
RETURNING sp.id
"""  # noqa: S608 - constant SQL, values are parameters

_SQL_SPECIALITES_NOUVELLES = """
SELECT b.cis FROM bdpm_specialite b WHERE NOT EXISTS (SELECT 1 FROM referentiel_specialite sp WHERE sp.cis = b.cis)
"""
# A new spécialité holds no derogatory status, so it is not in the public référentiel (R1) and gets no search
# document: services.specialites_indexer builds it when a status is added (every fiche service re-indexes), and
# the back-office finds catalogue rows by name (selectors.specialites_rechercher_catalogue). Building 15,000
# documents nobody searches was most of the import's time (to_tsvector, then two GIN indexes to fill).
_COLONNES_SPECIALITE = (
    "nom text, slug text, cis text, forme_pharmaceutique text, voies_administration text, titulaire_id int8, "
    "exploitant_id int8, code_atc text, aire_therapeutique text, mitm bool, statut_amm text, date_amm date, "
    "date_arret_commercialisation date, statut_administratif_bdpm text, etat_commercialisation_bdpm text, "
    "reserve_hospitalier bool, restriction_prescripteurs text, retrocession bool, publiee bool, demonstration bool, "
    "cree_le timestamptz, mis_a_jour_le timestamptz"
)
_SQL_SPECIALITES_CREER = f"""
INSERT INTO referentiel_specialite ({_noms(_COLONNES_SPECIALITE)})
SELECT
    b.nom, b.slug, b.cis, b.forme, b.voies, l.id, NULL, '', '', false, b.statut_amm, b.date_amm, NULL,
    b.statut_administratif, b.etat_commercialisation, b.reserve_hospitalier, b.restriction, false, true, false,
    %(maintenant)s, %(maintenant)s
FROM bdpm_specialite b
LEFT JOIN referentiel_laboratoire l ON l.nom = b.titulaire
WHERE NOT EXISTS (SELECT 1 FROM referentiel_specialite sp WHERE sp.cis = b.cis)
RETURNING id
"""  # noqa: S608 - built from constant fragments, values are parameters

# The BDPM is the reference for the composition and CPD of the spécialités it lists: lines it no longer has go,
# new ones come, a changed reference dosage is updated. One statement per table: the lines of the file and those of
# the catalogue (for the spécialités of the file) are compared once, by a full join, and each difference applied.
# Each returns (what it did, spécialité id) per line changed.
_SQL_COMPOSITIONS_FUSIONNER = """
WITH actuelles AS (
    SELECT c.id, sp.cis, c.substance_id, c.dosage, c.reference_dosage
    FROM referentiel_composition c
    JOIN referentiel_specialite sp ON sp.id = c.specialite_id
    JOIN bdpm_specialite b ON b.cis = sp.cis
),
ecarts AS (
    SELECT a.id, r.cis, r.substance_id, r.dosage, r.reference
    FROM actuelles a
    FULL JOIN bdpm_composition r ON r.cis = a.cis AND r.substance_id = a.substance_id AND r.dosage = a.dosage
    WHERE a.id IS NULL OR r.cis IS NULL OR a.reference_dosage <> r.reference
),
supprimees AS (
    DELETE FROM referentiel_composition c USING ecarts e WHERE c.id = e.id AND e.cis IS NULL
    RETURNING c.specialite_id
),
modifiees AS (
    UPDATE referentiel_composition c SET reference_dosage = e.reference
    FROM ecarts e WHERE c.id = e.id AND e.cis IS NOT NULL
    RETURNING c.specialite_id
),
ajoutees AS (
    INSERT INTO referentiel_composition (specialite_id, substance_id, dosage, reference_dosage)
    SELECT sp.id, e.substance_id, e.dosage, e.reference
    FROM ecarts e JOIN referentiel_specialite sp ON sp.cis = e.cis
    WHERE e.id IS NULL
    ORDER BY sp.id, e.substance_id, e.dosage
    ON CONFLICT (specialite_id, substance_id, dosage) DO NOTHING
    RETURNING specialite_id
)
SELECT 'supprimee', specialite_id FROM supprimees
UNION ALL SELECT 'modifiee', specialite_id FROM modifiees
UNION ALL SELECT 'ajoutee', specialite_id FROM ajoutees
"""
_SQL_CPD_FUSIONNER = """
WITH actuelles AS (
    SELECT c.id, sp.cis, c.texte
    FROM referentiel_conditionprescription c
    JOIN referentiel_specialite sp ON sp.id = c.specialite_id
    JOIN bdpm_specialite b ON b.cis = sp.cis
),
ecarts AS (
    SELECT a.id, r.cis, r.texte
    FROM actuelles a FULL JOIN bdpm_cpd r ON r.cis = a.cis AND r.texte = a.texte
    WHERE a.id IS NULL OR r.cis IS NULL
),
supprimees AS (
    DELETE FROM referentiel_conditionprescription c USING ecarts e WHERE c.id = e.id AND e.cis IS NULL
    RETURNING c.specialite_id
),
ajoutees AS (
    INSERT INTO referentiel_conditionprescription (specialite_id, texte)
    SELECT sp.id, e.texte FROM ecarts e JOIN referentiel_specialite sp ON sp.cis = e.cis
    WHERE e.id IS NULL
    ORDER BY sp.id, e.texte
    ON CONFLICT (specialite_id, texte) DO NOTHING
    RETURNING specialite_id
)
SELECT 'supprimee', specialite_id FROM supprimees
UNION ALL SELECT 'ajoutee', specialite_id FROM ajoutees
"""
# Only a spécialité of the référentiel (a status) or one a service already indexed has a search document to
# keep up to date; a catalogue row keeps none (see _SQL_SPECIALITES_CREER).
_SQL_A_REINDEXER = """
SELECT sp.id FROM referentiel_specialite sp
WHERE sp.id = ANY(%s) AND (
    sp.document_recherche IS NOT NULL
    OR EXISTS (SELECT 1 FROM referentiel_accesderogatoire a WHERE a.specialite_id = sp.id)
)
"""

# First import into an empty catalogue: the secondary indexes, unique and foreign-key constraints of the tables
# filled are dropped and built again once the rows are in, as pg_restore does: a sorted build instead of 15,000
# to 30,000 insertions into each index, one set-based check per foreign key instead of one trigger per row at
# commit. All of it inside the import's transaction: a failure rolls the DDL back with the rows. The ACCESS
# EXCLUSIVE locks this takes (on these tables and, for their foreign keys, on the laboratories and substances) are
# held only while the catalogue is filled for the first time, less than a second.
_GROUPES_VIDES = (
    ["referentiel_specialite", "referentiel_composition", "referentiel_conditionprescription"],
    ["referentiel_substance"],
)
_SQL_STRUCTURES_SECONDAIRES = """
SELECT 'index', i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%(tables)s::text[]::regclass[]) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
UNION ALL
SELECT 'contrainte', k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
WHERE k.conrelid = ANY(%(tables)s::text[]::regclass[]) AND (
    k.contype = 'f'
    -- a unique constraint or primary key another table's foreign key points to stays (the spécialités'); the
    -- others (compositions, CPD, substances once the compositions' keys are dropped) are built after the rows too
    OR (k.contype IN ('u', 'p') AND NOT EXISTS (
        SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = k.conindid
    ))
)
ORDER BY 1 DESC, 2, 3
"""


def _table_temporaire(cursor, table: str, lignes) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}; CREATE TEMP TABLE {table} ({_TEMPORAIRES[table]}) ON COMMIT DROP")
    _copier(cursor, table, _TEMPORAIRES[table], lignes)


def _copier(cursor, table: str, colonnes: str, lignes, *, puis=None) -> None:
    """COPY the rows into the table; colonnes: "name type, ...". In binary with the types declared up front,
    psycopg packs each value in C and the server parses nothing: a fifth of the client time of a text COPY.
    `puis`, called once the rows are sent, before the wait for the server to finish with them."""
    with cursor.copy(f"COPY {table} ({_noms(colonnes)}) FROM STDIN (FORMAT BINARY)") as copie:
        copie.set_types([colonne.split()[1] for colonne in colonnes.split(", ")])
        ecrire = copie.write_row
        for ligne in lignes:
            ecrire(ligne)
        if puis is not None:
            puis()


def _ids(cursor) -> list[int]:
    return [ligne[0] for ligne in cursor.fetchall()]


def _par_effet(cursor) -> dict[str, list[int]]:
    """The spécialité ids a merge statement returned, by what it did to their lines."""
    effets: dict[str, list[int]] = {"supprimee": [], "modifiee": [], "ajoutee": []}
    for effet, specialite_id in cursor.fetchall():
        effets[effet].append(specialite_id)
    return effets


def _sans_accents(cursor, specialites: Iterable[tuple]) -> tuple[bytes, list[tuple[str, str]]]:
    """How _slugs takes the accents off these spécialités' names: a table from each Windows-1252 byte to its letter
    without accent, and a replacement for each character that becomes several ("œ" -> "oe") or none. The few
    non-ASCII characters the names hold are mapped once, by PostgreSQL's own unaccent."""
    # The names were read from Windows-1252 files: their non-ASCII characters are the bytes left once the ASCII ones
    # are deleted.
    noms = "\n".join(ligne[1] for ligne in specialites)
    autres = sorted(set(noms.encode(ENCODAGE).translate(None, _OCTETS_ASCII).decode(ENCODAGE)))
    octet_sans_accent = bytearray(range(256))
    remplacements = []
    if autres:
        cursor.execute("SELECT c, lower(immutable_unaccent(c)) FROM unnest(%s::text[]) AS c", [autres])
        for caractere, traduit in cursor.fetchall():
            traduit = traduit.replace("\n", " ")
            if traduit == caractere:  # no letter under it ("°"): it becomes a hyphen like any other sign
                continue
            if len(traduit) == 1 and traduit.isascii():
                octet_sans_accent[ord(caractere.encode(ENCODAGE))] = ord(traduit)  # all in one translate()
            else:
                remplacements.append((caractere, traduit))  # "œ" -> "oe": a few characters, one replace() each
    return bytes(octet_sans_accent), remplacements


def _slugs(specialites: list[tuple], sans_accents: tuple[bytes, list[tuple[str, str]]]) -> dict[str, str]:
    """The fiche address of each new spécialité: its name lowercased without accents (_sans_accents), runs of other
    characters as one hyphen, then its CIS (an address that stays unique). The same result as
    concat_ws('-', nullif(left(btrim(regexp_replace(lower(immutable_unaccent(nom)), '[^a-z0-9]+', '-', 'g'), '-'),
    100), ''), cis) in SQL, without running unaccent and a regular expression 15,000 times in the database."""
    octet_sans_accent, remplacements = sans_accents
    # All the names as one text, one line each, so that each step is one pass in C over it.
    noms = "\n".join(ligne[1] for ligne in specialites)
    for caractere, traduit in remplacements:
        noms = noms.replace(caractere, traduit)
    octets = noms.encode(ENCODAGE).translate(octet_sans_accent)
    # What is left outside [a-z0-9] (line breaks aside) becomes a hyphen, then each run of hyphens one hyphen.
    octets = octets.lower().translate(_VERS_TIRET)
    slugs = {}
    for ligne, base in zip(specialites, _TIRETS.sub(b"-", octets).decode().split("\n"), strict=True):
        base = base.strip("-")[:100]
        slugs[ligne[0]] = f"{base}-{ligne[0]}" if base else ligne[0]
    return slugs


def _etat_des_fiches(cis: set[str]) -> dict[int, dict]:
    """Fields, composition and CPD of the imported spécialités that have a public fiche (a derogatory status),
    so that the import historises what it changes on them like any other change to a fiche. Few rows: the
    catalogue holds some 15,000 spécialités, the référentiel a few hundred."""
    fiches = (
        Specialite.objects.filter(cis__isnull=False, pk__in=AccesDerogatoire.objects.values("specialite_id"))
        .select_related("titulaire")
        .prefetch_related("compositions__substance", "conditions_prescription")
    )
    etats = {}
    for sp in fiches:
        if sp.cis not in cis:
            continue
        etats[sp.pk] = {
            "nom": sp.nom,
            "forme_pharmaceutique": sp.forme_pharmaceutique,
            "voies_administration": sp.voies_administration,
            "titulaire": sp.titulaire.nom if sp.titulaire else None,
            "statut_administratif_bdpm": sp.statut_administratif_bdpm,
            "etat_commercialisation_bdpm": sp.etat_commercialisation_bdpm,
            "statut_amm": sp.statut_amm,
            "date_amm": sp.date_amm.isoformat() if sp.date_amm else None,
            "composition": sorted(f"{c.substance.dci} {c.dosage}".strip() for c in sp.compositions.all()),
            "cpd": sorted(c.texte for c in sp.conditions_prescription.all()),
        }
    return etats


def _demonter(cursor, tables: list[str]) -> list[tuple[str, str, str, str]] | None:
    """If the first of these tables is empty, drop the secondary indexes and constraints of all of them and return
    what to build again (see _GROUPES_VIDES); None, with nothing dropped, otherwise."""
    vide = f"SELECT NOT EXISTS (SELECT 1 FROM {tables[0]})"  # noqa: S608 - a constant table name
    cursor.execute(vide)
    if not cursor.fetchone()[0]:
        return None
    quote = connection.ops.quote_name
    try:
        with transaction.atomic():
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(vide)
            if not cursor.fetchone()[0]:  # filled between the first look and the lock
                return None
            cursor.execute(_SQL_STRUCTURES_SECONDAIRES, {"tables": tables})
            structures = cursor.fetchall()
            if structures:  # one round trip for all of them
                cursor.execute(
                    ";\n".join(
                        f"ALTER TABLE {table} DROP CONSTRAINT {quote(nom)}"
                        if genre == "contrainte"
                        else f"DROP INDEX {quote(nom)}"
                        for genre, table, nom, _ in structures
                    )
                )
    except OperationalError as exc:
        # Rows deleted earlier in the caller's transaction leave deferred checks pending on these tables ("pending
        # trigger events"): their structure cannot change before commit. The merge then inserts through them.
        if getattr(exc.__cause__, "sqlstate", None) == _OBJET_UTILISE:
            return None
        raise
    return structures


def _remonter(cursor, structures: list[tuple[str, str, str, str]]) -> None:
    """Build again what _demonter dropped: indexes and unique constraints first, then the foreign keys (each one
    checked by a single query over its table)."""
    quote = connection.ops.quote_name
    ordre = sorted(structures, key=lambda structure: structure[3].startswith("FOREIGN KEY"))
    if ordre:  # one round trip for all of them
        cursor.execute(
            ";\n".join(
                f"ALTER TABLE {table} ADD CONSTRAINT {quote(nom)} {definition}"
                if genre == "contrainte"
                else definition
                for genre, table, nom, definition in ordre
            )
        )


def _ecrire(donnees: _Donnees, bilans: dict[str, Bilan], par, progression: tqdm) -> tuple[set[int], bool]:
    """Write the rows into the catalogue; return the ids of the spécialités whose search document changes, and
    whether the catalogue was empty (rows copied in, indexes and constraints built after them)."""
    maintenant = timezone.now()
    bilan_labo, bilan_substance = bilans["laboratoires"], bilans["substances"]
    a_reindexer: set[int] = set()

    with connection.cursor() as cursor:
        structures_catalogue = _demonter(cursor, _GROUPES_VIDES[0])
        vide = structures_catalogue is not None
        structures_substances = _demonter(cursor, _GROUPES_VIDES[1])
        # Spécialités of the référentiel as they are before the import, for their history.
        fiches_avant = {} if vide else _etat_des_fiches(set(donnees.cis))

        laboratoires = {"noms": sorted(donnees.laboratoires)}
        cursor.execute(_SQL_LABORATOIRES_CREER, laboratoires)
        bilan_labo.crees = cursor.fetchone()[0]
        cursor.execute(_SQL_LABORATOIRES_MARQUER, laboratoires)
        bilan_labo.mis_a_jour = cursor.rowcount
        bilan_labo.inchanges = bilan_labo.lignes - bilan_labo.crees - bilan_labo.mis_a_jour

        specialite, premiere_substance = {}, None
        if vide:
            specialite, premiere_substance = _charger_specialites(
                cursor, donnees, bilans, maintenant, progression, substances_vides=structures_substances is not None
            )
        donnees.attendre_compo()
        bilan_substance.lignes = len(donnees.substances)

        if structures_substances is not None:
            if premiere_substance is None:
                premiere_substance = _reserver_ids(cursor, "referentiel_substance", 1)
            substance_du_code = _ids_substances(donnees.substances, premiere_substance)
            _copier(
                cursor,
                "referentiel_substance",
                "id int8, code_bdpm text, dci text",
                ((substance_du_code[code], code, dci) for code, dci in donnees.substances),
            )
            if donnees.substances:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('referentiel_substance', 'id'), %s)",
                    [max(substance_du_code.values())],
                )
            bilan_substance.crees = len(donnees.substances)
        else:
            _table_temporaire(cursor, "bdpm_substance", donnees.substances)
            cursor.execute(_SQL_SUBSTANCES_RENOMMER)
            renommees = _ids(cursor)
            cursor.execute(_SQL_SUBSTANCES_RATTACHER)
            bilan_substance.mis_a_jour = len(renommees) + cursor.rowcount
            cursor.execute(_SQL_SUBSTANCES_CREER)
            bilan_substance.crees = cursor.rowcount
            if renommees:
                cursor.execute(
                    "SELECT DISTINCT specialite_id FROM referentiel_composition WHERE substance_id = ANY(%s)",
                    [renommees],
                )
                a_reindexer.update(_ids(cursor))
            cursor.execute(_SQL_SUBSTANCES_RESOUDRE)
            substance_du_code = dict(cursor.fetchall())
        bilan_substance.inchanges = bilan_substance.lignes - bilan_substance.crees - bilan_substance.mis_a_jour
        progression.update(1)

        if vide:
            _charger_lignes(
                cursor,
                donnees,
                specialite,
                substance_du_code,
                structures_catalogue + (structures_substances or []),
                bilans,
                progression,
            )
        else:
            compositions = _compositions_resolues(donnees.compositions, substance_du_code)
            a_reindexer |= _fusionner(cursor, donnees, compositions, bilans, maintenant, progression)
            if structures_substances is not None:
                _remonter(cursor, structures_substances)
        if a_reindexer:
            cursor.execute(_SQL_A_REINDEXER, [list(a_reindexer)])
            a_reindexer = set(_ids(cursor))

    _historiser(fiches_avant, par, maintenant)
    return a_reindexer, vide


def _charger_specialites(
    cursor, donnees: _Donnees, bilans: dict[str, Bilan], maintenant, progression, *, substances_vides: bool
) -> tuple[dict[str, int], int | None]:
    """Copy the spécialités straight into the empty catalogue table (its indexes and constraints come afterwards).
    Their ids are reserved from the table's sequence first, and the first substance id too when the substances'
    table is empty: the other thread can then pack the compositions and CPD while PostgreSQL journals these rows.
    Returns the id of each CIS and that first substance id (None when the substances are merged)."""
    cursor.execute(_SQL_LABORATOIRES_IDS, {"noms": sorted(donnees.laboratoires)})
    laboratoire = dict(cursor.fetchall())
    slugs = _slugs(donnees.specialites, _sans_accents(cursor, donnees.specialites))
    lignes = donnees.specialites
    premiere = _reserver_ids(cursor, "referentiel_specialite", len(lignes))
    specialite = {ligne[0]: premiere + rang for rang, ligne in enumerate(lignes)}
    # The substances' number is known once the composition file is read: their sequence is moved past them then.
    premiere_substance = _reserver_ids(cursor, "referentiel_substance", 1) if substances_vides else None

    def puis():
        # While PostgreSQL writes and journals the rows, the other thread reads the compositions (then packs them
        # with the CPD): started only once the rows are sent, it does not take Python's lock (GIL) from their packing.
        donnees.lecture_compo.commencer()
        if premiere_substance is not None:
            donnees.preparer_en_fond(specialite, premiere_substance)

    _copier(
        cursor,
        "referentiel_specialite",
        "id int8, " + _COLONNES_SPECIALITE,
        (
            (
                specialite[cis],
                nom,
                slugs[cis],
                cis,
                forme,
                voies,
                laboratoire[titulaire] if titulaire else None,
                None,
                "",
                "",
                False,
                statut_amm,
                date_amm,
                None,
                statut,
                etat,
                reserve,
                restrict,
                False,
                True,
                False,
                maintenant,
                maintenant,
            )
            for cis, nom, forme, voies, titulaire, statut, etat, statut_amm, date_amm, reserve, restrict, _ in lignes
        ),
        puis=puis,
    )
    bilans[FICHIER_CIS].crees = len(donnees.specialites)
    progression.update(1)
    return specialite, premiere_substance


def _reserver_ids(cursor, table: str, nombre: int) -> int:
    """Reserve nombre consecutive ids from the sequence of the table's id (its identity); return the first. Only for
    a table this transaction found empty and locked (_demonter, ACCESS EXCLUSIVE): an INSERT into it waits for
    that lock before its row takes a value from the sequence, so nothing else draws from it meanwhile. One call and
    one setval instead of a nextval per row (some 6 µs each, 15,000 times)."""
    cursor.execute(
        "SELECT premier, setval(sequence, premier + %(nombre)s - 1) FROM "
        "(SELECT sequence, nextval(sequence) AS premier FROM pg_get_serial_sequence(%(table)s, 'id') AS sequence) s",
        {"table": table, "nombre": max(nombre, 1)},
    )
    return cursor.fetchone()[0]


def _ids_substances(substances: list[tuple[str, str]], premiere: int) -> dict[str, int]:
    """The ids of the substances copied into the empty substances' table (reserved by _reserver_ids): from premiere
    on, in code order (the order _lire_compo gives)."""
    return {code: premiere + rang for rang, (code, _) in enumerate(substances)}


def _compositions_resolues(compositions: list[tuple], substance_du_code: dict[str, int]) -> list[tuple]:
    """Composition lines with their substance's id. Two codes may end up as one substance: the first line (file
    order) of a spécialité, substance and dosage is kept."""
    resolues, vues = [], set()
    for cis, code, dosage, reference in compositions:
        cle = (cis, substance_du_code[code], dosage)
        if cle not in vues:
            vues.add(cle)
            resolues.append((*cle, reference))
    return resolues


# PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): a header
# (signature, flags, extension length), then per row its number of fields and each field as its length and bytes
# (an int8 in 8 bytes big-endian, a text in the connection's encoding, UTF-8), then -1 as the end.
_COPY_BINAIRE_DEBUT = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_BINAIRE_FIN = b"\xff\xff"
_COMPOSITION_BINAIRE = struct.Struct(">hiqiqi")  # 4 fields: int8, int8, then the length of the first text
_CPD_BINAIRE = struct.Struct(">hiqi")  # 2 fields: int8, then the length of the text
_LONGUEUR_BINAIRE = struct.Struct(">i")


def _compositions_binaires(compositions: list[tuple], specialite: dict[str, int]) -> bytes:
    morceaux = [_COPY_BINAIRE_DEBUT]
    ajouter, entete, longueur = morceaux.append, _COMPOSITION_BINAIRE.pack, _LONGUEUR_BINAIRE.pack
    for cis, substance_id, dosage, reference in compositions:
        dosage, reference = dosage.encode(), reference.encode()
        ajouter(entete(4, 8, specialite[cis], 8, substance_id, len(dosage)))
        ajouter(dosage)
        ajouter(longueur(len(reference)))
        ajouter(reference)
    ajouter(_COPY_BINAIRE_FIN)
    return b"".join(morceaux)


def _cpd_binaires(conditions: list[tuple[str, str]], specialite: dict[str, int]) -> bytes:
    morceaux = [_COPY_BINAIRE_DEBUT]
    ajouter, entete = morceaux.append, _CPD_BINAIRE.pack
    for cis, texte in conditions:
        texte = texte.encode()
        ajouter(entete(2, 8, specialite[cis], len(texte)))
        ajouter(texte)
    ajouter(_COPY_BINAIRE_FIN)
    return b"".join(morceaux)


def _copier_binaire(cursor, table: str, colonnes: str, donnees: bytes) -> None:
    with cursor.copy(f"COPY {table} ({colonnes}) FROM STDIN (FORMAT BINARY)") as copie:
        copie.write(donnees)


def _lignes_binaires(
    compositions: list[tuple],
    substance_du_code: dict[str, int],
    cpd: list[tuple[str, str]],
    specialite: dict[str, int],
) -> tuple[int, bytes, bytes]:
    """(number of compositions, the COPY bytes of the compositions, those of the CPD)."""
    resolues = _compositions_resolues(compositions, substance_du_code)
    return len(resolues), _compositions_binaires(resolues, specialite), _cpd_binaires(cpd, specialite)


def _charger_lignes(
    cursor,
    donnees: _Donnees,
    specialite: dict[str, int],
    substance_du_code: dict,
    structures: list,
    bilans: dict[str, Bilan],
    progression,
):
    """Copy the compositions and CPD of the spécialités _charger_specialites copied, then build the indexes and
    constraints of the tables filled (all in one round trip, the foreign keys last). The rows go in before the
    indexes are built: those builds write their whole indexes to the WAL, which a COPY after them waits for."""
    if donnees.preparation is None:  # not packed in advance: the substances were merged, their ids known only now
        donnees.preparation = donnees.en_fond(
            _lignes_binaires, donnees.compositions, substance_du_code, donnees.cpd, specialite
        )
    nombre, compositions, conditions = donnees.preparation.result()
    colonnes = "specialite_id, substance_id, dosage, reference_dosage"
    _copier_binaire(cursor, "referentiel_composition", colonnes, compositions)
    bilans[FICHIER_COMPO].crees = nombre
    progression.update(1)
    _copier_binaire(cursor, "referentiel_conditionprescription", "specialite_id, texte", conditions)
    bilans[FICHIER_CPD].crees = len(donnees.cpd)
    progression.update(1)
    donnees.liberer()
    _remonter(cursor, structures)


def _fusionner(cursor, donnees: _Donnees, compositions: list, bilans: dict[str, Bilan], maintenant, progression):
    """Merge the rows into a catalogue that has some: create, update and delete only what differs. Returns the
    ids of the existing spécialités whose search document may change."""
    bilan_cis, bilan_compo, bilan_cpd = bilans[FICHIER_CIS], bilans[FICHIER_COMPO], bilans[FICHIER_CPD]
    _table_temporaire(
        cursor, "bdpm_specialite", ((ligne[0], ligne[1], None, *ligne[2:11]) for ligne in donnees.specialites)
    )
    # Only a spécialité new to the catalogue needs an address (an existing one keeps its own).
    cursor.execute(_SQL_SPECIALITES_NOUVELLES)
    nouvelles = set(_ids(cursor))
    if nouvelles:
        specialites = [ligne for ligne in donnees.specialites if ligne[0] in nouvelles]
        slugs = _slugs(specialites, _sans_accents(cursor, specialites))
        cursor.execute(
            "UPDATE bdpm_specialite b SET slug = n.slug FROM unnest(%s::text[], %s::text[]) AS n (cis, slug) "
            "WHERE b.cis = n.cis",
            [list(slugs), list(slugs.values())],
        )
    _table_temporaire(cursor, "bdpm_composition", compositions)
    _table_temporaire(cursor, "bdpm_cpd", donnees.cpd)

    cursor.execute(_SQL_SPECIALITES_METTRE_A_JOUR, {"maintenant": maintenant})
    mises_a_jour = set(_ids(cursor))
    try:
        with transaction.atomic():
            cursor.execute(_SQL_SPECIALITES_CREER, {"maintenant": maintenant})
    except IntegrityError as exc:
        raise ReferentielError(
            "Import annulé, rien n'a été importé : une spécialité créée hors BDPM porte déjà l'adresse (slug) "
            f"d'une spécialité du fichier. Détail : {exc.__cause__ or exc}".strip()
        ) from exc
    creees = set(_ids(cursor))
    bilan_cis.crees, bilan_cis.mis_a_jour = len(creees), len(mises_a_jour)
    bilan_cis.inchanges = len(donnees.specialites) - bilan_cis.crees - bilan_cis.mis_a_jour
    progression.update(1)

    cursor.execute(_SQL_COMPOSITIONS_FUSIONNER)
    changees = _par_effet(cursor)
    supprimees, modifiees, ajoutees = changees["supprimee"], changees["modifiee"], changees["ajoutee"]
    bilan_compo.crees, bilan_compo.mis_a_jour, bilan_compo.supprimes = len(ajoutees), len(modifiees), len(supprimees)
    bilan_compo.inchanges = len(compositions) - bilan_compo.crees - bilan_compo.mis_a_jour
    progression.update(1)

    cursor.execute(_SQL_CPD_FUSIONNER)
    changees = _par_effet(cursor)
    cpd_supprimees, cpd_ajoutees = changees["supprimee"], changees["ajoutee"]
    bilan_cpd.crees, bilan_cpd.supprimes = len(cpd_ajoutees), len(cpd_supprimees)
    bilan_cpd.inchanges = len(donnees.cpd) - bilan_cpd.crees
    progression.update(1)

    # A spécialité whose composition or CPD changed was updated too: its fiche shows them.
    autres = {*supprimees, *modifiees, *ajoutees, *cpd_supprimees, *cpd_ajoutees} - creees - mises_a_jour
    if autres:
        cursor.execute(
            "UPDATE referentiel_specialite SET mis_a_jour_le = %s WHERE id = ANY(%s)", [maintenant, list(autres)]
        )
    # The reference dosage is not searched: only new or removed composition lines change the search document.
    return (mises_a_jour | set(supprimees) | set(ajoutees)) - creees


def _historiser(fiches_avant: dict[int, dict], par, maintenant) -> None:
    if not fiches_avant:
        return
    fiches_apres = _etat_des_fiches(set(Specialite.objects.filter(pk__in=fiches_avant).values_list("cis", flat=True)))
    lignes = []
    for pk, avant in fiches_avant.items():
        apres = fiches_apres.get(pk, {})
        changes = [cle for cle in avant if avant[cle] != apres.get(cle)]
        if changes:
            lignes.append(
                HistoriqueFiche(
                    specialite_id=pk,
                    auteur=par,
                    le=maintenant,
                    action="Mise à jour depuis la BDPM",
                    objet=apres.get("nom", "")[:200],
                    avant={cle: avant[cle] for cle in changes},
                    apres={cle: apres.get(cle) for cle in changes},
                )
            )
    HistoriqueFiche.objects.bulk_create(lignes)


class _Compteur:
    """Counts the lines another thread reads (the progress bar is the main thread's)."""

    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n


def _verifier(bilan: Bilan) -> None:
    """A file none of whose lines is in the BDPM format is not the expected file: nothing is imported."""
    bilan.rejets.sort(key=lambda rejet: rejet.ligne)
    if bilan.lignes and len(bilan.rejets) == bilan.lignes:
        raise ReferentielError(
            f"Import annulé : aucune ligne de {bilan.nom} n'est au format BDPM attendu (première erreur ligne "
            f"{bilan.rejets[0].ligne} : {bilan.rejets[0].motif}). Rien n'a été importé."
        )


@contextmanager
def _sans_ramasse_miettes():
    """Pause Python's cyclic garbage collector: the import allocates hundreds of thousands of strings, tuples and
    lists, none in a reference cycle, and each collection would walk them all again (a fifth of the import's
    Python time). Reference counting still frees memory meanwhile; the collector's previous state is restored."""
    actif = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if actif:
            gc.enable()


def bdpm_importer(*, dossier: Path | str, par=None, progression: bool = False) -> RapportImport:
    """Create or update spécialités, laboratories, substances, compositions and CPD from the BDPM files in dossier.

    Malformed lines are rejected and reported (line number, reason); the rest is written in one transaction.
    Raises ReferentielError for a fatal problem (missing file, conflict with existing data): nothing is written.
    """
    debut = time.perf_counter()
    dossier = Path(dossier)
    manquants = [nom for nom in FICHIERS if not (dossier / nom).is_file()]
    if manquants:
        raise ReferentielError(f"Fichier(s) BDPM introuvable(s) dans {dossier} : {', '.join(manquants)}.")
    bilans = {nom: Bilan(nom) for nom in (*FICHIERS, "laboratoires", "substances")}
    # The rows read (hundreds of thousands of objects) live only in _importer: they are freed when it returns,
    # before the collector runs again. Alive then, its first collection would walk them all (some 40 ms).
    with _sans_ramasse_miettes():
        a_reindexer, premier_chargement = _importer(dossier, bilans, par, progression)
    return RapportImport(
        bilans=bilans,
        specialites_reindexees=a_reindexer,
        premier_chargement=premier_chargement,
        duree=time.perf_counter() - debut,
    )


def _importer(dossier: Path, bilans: dict[str, Bilan], par, progression: bool) -> tuple[int, bool]:
    """Read the files and write their rows (see bdpm_importer); return how many fiches were re-indexed and whether
    the catalogue was empty."""
    contenus = {nom: (dossier / nom).read_bytes() for nom in FICHIERS}
    # One tick per line read plus one per writing step.
    total = sum(contenu.count(b"\n") for contenu in contenus.values()) + 6
    with (
        tqdm(
            total=total, desc="Import BDPM", unit="ligne", file=sys.stderr, disable=not progression, leave=False
        ) as barre,
        # The composition file is read by a thread of its own while this one waits for PostgreSQL (see _Donnees):
        # the reading runs meanwhile instead of before.
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-bdpm") as lecteur,
    ):
        specialites = _lire_cis(contenus[FICHIER_CIS], bilans[FICHIER_CIS], barre)
        _verifier(bilans[FICHIER_CIS])
        cpd = _lire_cpd(contenus[FICHIER_CPD], bilans[FICHIER_CPD], specialites, barre)
        _verifier(bilans[FICHIER_CPD])

        lignes_compo = _Compteur()  # the progress bar is this thread's: the other one counts its lines apart

        def verifier_compo():
            barre.update(lignes_compo.n)
            _verifier(bilans[FICHIER_COMPO])

        lire_compo = partial(_lire_compo, contenus[FICHIER_COMPO], bilans[FICHIER_COMPO], specialites, lignes_compo)
        donnees = _Donnees(
            en_fond=lecteur.submit,
            cis=specialites,
            cpd=cpd,
            lecture_compo=_Lecture(lire_compo, verifier_compo, lecteur.submit),
        )
        del specialites, cpd, lire_compo  # held by donnees alone: see _Donnees.liberer
        bilans["laboratoires"].lignes = len(donnees.laboratoires)

        # A composition file found wrong once the writing began (every line rejected) rolls the writing back.
        with transaction.atomic(), audit.acteur(par) if par is not None else nullcontext():
            # The audit trail's triggers see the COPYs too: tell them who writes (the execute wrapper sees no COPY).
            audit.contexte_appliquer()
            a_reindexer, premier_chargement = _ecrire(donnees, bilans, par, barre)
            specialites_indexer(ids=sorted(a_reindexer))
            barre.update(1)
    return len(a_reindexer), premier_chargement
