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
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from tqdm import tqdm

from .enums import StatutAMM
from .exceptions import ReferentielError
from .models import AccesDerogatoire, HistoriqueFiche, Specialite
from .services import specialites_indexer, sql_document_recherche, sql_texte_recherche

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
    # New spécialités get their search document as they are inserted; changed ones are re-indexed afterwards.
    specialites_reindexees: int = 0
    duree: float = 0.0

    @property
    def rejets(self) -> int:
        return sum(len(b.rejets) for b in self.bilans.values())


@dataclass
class _Donnees:
    """The valid rows of the three files, ready to be copied."""

    specialites: list[tuple] = field(default_factory=list)
    laboratoires: set[str] = field(default_factory=set)
    substances: list[tuple[str, str]] = field(default_factory=list)
    compositions: list[tuple] = field(default_factory=list)
    cpd: list[tuple[str, str]] = field(default_factory=list)


# --- Reading --------------------------------------------------------------------------------------------------


def _lignes(chemin: Path, bilan: Bilan, progression: tqdm) -> Iterator[tuple[int, str]]:
    """(number, text) of each non-blank line; a line with a byte Windows-1252 does not define is rejected."""
    contenu = chemin.read_bytes()
    try:
        texte = contenu.decode(ENCODAGE)
    except UnicodeDecodeError:
        texte = None
    if texte is not None:
        # The files mix CRLF and LF (and an old file may hold a bare CR): normalise before splitting.
        lignes = texte.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    else:
        lignes = []
        for numero, brute in enumerate(contenu.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"), 1):
            try:
                lignes.append(brute.decode(ENCODAGE))
            except UnicodeDecodeError as exc:
                bilan.lignes += 1
                bilan.rejeter(
                    numero, f"octet 0x{brute[exc.start]:02X} indéfini en Windows-1252 (position {exc.start + 1})"
                )
                lignes.append("")
    nul = b"\x00" in contenu
    for numero, ligne in enumerate(lignes, 1):
        if numero % 2000 == 0:
            progression.update(2000)
        if not ligne or ligne.isspace():
            continue
        bilan.lignes += 1
        if nul and "\x00" in ligne:
            bilan.rejeter(numero, "caractère nul dans la ligne")
            continue
        yield numero, ligne
    progression.update(len(lignes) % 2000)


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


def _lire_cis(chemin: Path, bilan: Bilan, progression: tqdm) -> dict[str, tuple]:
    specialites: dict[str, tuple] = {}
    premiere_ligne: dict[str, int] = {}
    for numero, ligne in _lignes(chemin, bilan, progression):
        colonnes = _colonnes(ligne, 12)
        if colonnes is None:
            bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 12")
            continue
        cis = colonnes[0].strip()
        if not _cis_valide(cis):
            bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            continue
        if cis in premiere_ligne:
            bilan.rejeter(numero, f"code CIS {cis} en double (déjà ligne {premiere_ligne[cis]})")
            continue
        nom, forme, voies = colonnes[1].strip(), colonnes[2].strip(), colonnes[3].strip()
        statut, etat = colonnes[4].strip(), colonnes[6].strip()
        if not nom:
            bilan.rejeter(numero, "dénomination vide")
            continue
        texte_date = colonnes[7].strip()
        try:
            date_amm = _date(texte_date) if texte_date else None
        except ValueError:
            bilan.rejeter(numero, f"date d'AMM « {texte_date} » invalide : JJ/MM/AAAA attendu")
            continue
        titulaires = [t.strip() for t in colonnes[10].split(";") if t and not t.isspace()]
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
            statut_amm_bdpm(statut, etat),
            date_amm,
            tuple(titulaires),
        )
    return specialites


def _lire_compo(chemin: Path, bilan: Bilan, connus: dict, progression: tqdm) -> tuple[list, list]:
    """Valid composition rows, and one name per substance code (the BDPM spells some codes several ways)."""
    lignes: list[tuple] = []
    noms_par_code: dict[str, Counter] = {}
    for numero, ligne in _lignes(chemin, bilan, progression):
        colonnes = _colonnes(ligne, 8)
        if colonnes is None:
            bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 8")
            continue
        cis = colonnes[0].strip()
        if not _cis_valide(cis):
            bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            continue
        if cis not in connus:
            bilan.rejeter(numero, f"code CIS {cis} absent de {FICHIER_CIS} (ou rejeté)")
            continue
        code, dci = colonnes[2].strip(), colonnes[3].strip()
        dosage, reference, nature = colonnes[4].strip(), colonnes[5].strip(), colonnes[6].strip()
        if not code or not dci:
            bilan.rejeter(numero, "code ou dénomination de la substance vide")
            continue
        if nature not in ("SA", "FT"):
            bilan.rejeter(numero, f"nature du composant « {nature} » inconnue : SA ou FT attendu")
            continue
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
            noms = noms_par_code[code] = Counter()
        noms[dci] += 1
        lignes.append((cis, code, dosage, reference))

    # One name per code: the most frequent spelling (Counter keeps first-seen order on ties). Codes that end up
    # with the same name (case aside) are one substance: its DCI is unique.
    nom_du_code = {code: noms.most_common(1)[0][0] for code, noms in noms_par_code.items()}
    code_du_nom: dict[str, str] = {}
    for code in sorted(nom_du_code):
        code_du_nom.setdefault(nom_du_code[code].casefold(), code)
    canonique = {code: code_du_nom[nom.casefold()] for code, nom in nom_du_code.items()}
    substances = [(code, nom_du_code[code]) for code in sorted(set(canonique.values()))]

    compositions, vues = [], set()
    for rang, (cis, code, dosage, reference) in enumerate(lignes):
        code = canonique[code]
        cle = (cis, code, dosage)
        # The same substance and dosage in two elements of one spécialité (day and night tablets, homeopathic
        # forms) is one composition line for the catalogue.
        if cle in vues:
            bilan.ignores += 1
            continue
        vues.add(cle)
        compositions.append((cis, code, nom_du_code[code], dosage, reference, rang))
    return compositions, substances


def _lire_cpd(chemin: Path, bilan: Bilan, connus: dict, progression: tqdm) -> list[tuple[str, str]]:
    conditions, vues = [], set()
    for numero, ligne in _lignes(chemin, bilan, progression):
        colonnes = _colonnes(ligne, 2)
        if colonnes is None:
            bilan.rejeter(numero, f"{len(ligne.split(chr(9)))} colonnes au lieu de 2")
            continue
        cis, texte = colonnes[0].strip(), colonnes[1].strip()
        if not _cis_valide(cis):
            bilan.rejeter(numero, f"code CIS « {cis} » invalide : 8 chiffres attendus")
            continue
        if cis not in connus:
            bilan.rejeter(numero, f"code CIS {cis} absent de {FICHIER_CIS} (ou rejeté)")
            continue
        if not texte:
            bilan.ignores += 1
            continue
        if len(texte) > _MAX_CPD:
            bilan.rejeter(numero, f"condition trop longue ({len(texte)} caractères, {_MAX_CPD} au plus)")
            continue
        if (cis, texte) in vues:
            bilan.ignores += 1
            continue
        vues.add((cis, texte))
        conditions.append((cis, texte))
    return conditions


def _cpd_de_specialite(textes: list[str]) -> tuple[bool, str]:
    """R28 fields a new spécialité starts with: hospital-only use and prescriber restrictions, from its CPD."""
    reserve = any("usage hospitalier" in t.casefold() for t in textes)
    restrictions = " ; ".join(t for t in textes if t.casefold().startswith("prescription") and "réservée" in t)
    if len(restrictions) > _MAX_RESTRICTION:
        restrictions = restrictions[: _MAX_RESTRICTION - 1] + "…"
    return reserve, restrictions


# --- Writing --------------------------------------------------------------------------------------------------

_TEMPORAIRES = (
    "bdpm_specialite, bdpm_laboratoire, bdpm_substance, bdpm_composition, bdpm_cpd, bdpm_composition_resolue, "
    "bdpm_cpd_resolue"
)
# Temporary tables vanish at commit; they are also dropped first and last so that two imports in one transaction
# (tests run inside one) do not meet.
_SQL_TABLES_TEMPORAIRES = f"""
DROP TABLE IF EXISTS {_TEMPORAIRES};
CREATE TEMP TABLE bdpm_specialite (
    cis text PRIMARY KEY, nom text, forme text, voies text, titulaire text, statut_administratif text,
    etat_commercialisation text, statut_amm text, date_amm date, reserve_hospitalier boolean, restriction text
) ON COMMIT DROP;
CREATE TEMP TABLE bdpm_laboratoire (nom text PRIMARY KEY) ON COMMIT DROP;
CREATE TEMP TABLE bdpm_substance (code text PRIMARY KEY, dci text) ON COMMIT DROP;
CREATE TEMP TABLE bdpm_composition (cis text, code text, dci text, dosage text, reference text, rang integer)
    ON COMMIT DROP;
CREATE TEMP TABLE bdpm_cpd (cis text, texte text) ON COMMIT DROP;
"""

_SQL_LABORATOIRES_CREER = """
WITH crees AS (
    INSERT INTO referentiel_laboratoire (nom, est_titulaire, est_exploitant, email, telephone, adresse)
    SELECT nom, true, false, '', '', '' FROM bdpm_laboratoire ORDER BY nom
    ON CONFLICT (nom) DO NOTHING RETURNING 1
) SELECT count(*) FROM crees
"""
_SQL_LABORATOIRES_MARQUER = """
UPDATE referentiel_laboratoire l SET est_titulaire = true
FROM bdpm_laboratoire b WHERE l.nom = b.nom AND NOT l.est_titulaire
"""

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

# Compositions resolved to substance ids, still keyed by CIS: the INSERT of new spécialités reads their DCI from
# here, and the same rows then become their compositions.
_SQL_COMPOSITIONS_RESOUDRE = """
CREATE TEMP TABLE bdpm_composition_resolue ON COMMIT DROP AS
SELECT DISTINCT ON (c.cis, coalesce(s1.id, s2.id), c.dosage)
    c.cis, coalesce(s1.id, s2.id) AS substance_id, coalesce(s1.dci, s2.dci) AS dci, c.dosage, c.reference
FROM bdpm_composition c
LEFT JOIN referentiel_substance s1 ON s1.code_bdpm = c.code
LEFT JOIN referentiel_substance s2 ON s1.id IS NULL AND lower(s2.dci) = lower(c.dci)
ORDER BY c.cis, coalesce(s1.id, s2.id), c.dosage, c.rang
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

# A new spécialité gets its search document in the same INSERT (services.sql_document_recherche, the expression
# specialites_indexer uses): writing 15,000 rows once instead of twice is most of the import's time.
_LABORATOIRES = "coalesce(l.nom, '') || ' ' || ''"
_SQL_SPECIALITES_CREER = f"""
WITH dci AS (
    SELECT cis, string_agg(dci, ' ' ORDER BY dci, dosage) AS texte FROM bdpm_composition_resolue GROUP BY cis
)
INSERT INTO referentiel_specialite (
    nom, slug, cis, forme_pharmaceutique, voies_administration, titulaire_id, exploitant_id, code_atc,
    aire_therapeutique, mitm, statut_amm, date_amm, date_arret_commercialisation, statut_administratif_bdpm,
    etat_commercialisation_bdpm, reserve_hospitalier, restriction_prescripteurs, retrocession, publiee,
    demonstration, cree_le, mis_a_jour_le, document_recherche, texte_recherche
)
SELECT
    b.nom,
    concat_ws('-', nullif(left(btrim(regexp_replace(lower(immutable_unaccent(b.nom)), '[^a-z0-9]+', '-', 'g'), '-'),
                               100), ''), b.cis),
    b.cis, b.forme, b.voies, l.id, NULL, '', '', false, b.statut_amm, b.date_amm, NULL, b.statut_administratif,
    b.etat_commercialisation, b.reserve_hospitalier, b.restriction, false, true, false, %(maintenant)s,
    %(maintenant)s,
    {sql_document_recherche(nom="b.nom", dci="dci.texte", indications="''", laboratoires=_LABORATOIRES)},
    {sql_texte_recherche(nom="b.nom", dci="dci.texte", laboratoires=_LABORATOIRES)}
FROM bdpm_specialite b
LEFT JOIN referentiel_laboratoire l ON l.nom = b.titulaire
LEFT JOIN dci ON dci.cis = b.cis
WHERE NOT EXISTS (SELECT 1 FROM referentiel_specialite sp WHERE sp.cis = b.cis)
ORDER BY b.cis
RETURNING id
"""  # noqa: S608 - built from constant fragments, values are parameters

# The BDPM is the reference for the composition and CPD of the spécialités it lists: lines it no longer has go.
_SQL_COMPOSITIONS_SUPPRIMER = """
DELETE FROM referentiel_composition c
USING referentiel_specialite sp, bdpm_specialite b
WHERE c.specialite_id = sp.id AND sp.cis = b.cis
  AND NOT EXISTS (
      SELECT 1 FROM bdpm_composition_resolue r
      WHERE r.cis = sp.cis AND r.substance_id = c.substance_id AND r.dosage = c.dosage
  )
RETURNING c.specialite_id
"""
_SQL_COMPOSITIONS_METTRE_A_JOUR = """
UPDATE referentiel_composition c SET reference_dosage = r.reference
FROM bdpm_composition_resolue r, referentiel_specialite sp
WHERE sp.cis = r.cis AND c.specialite_id = sp.id AND c.substance_id = r.substance_id AND c.dosage = r.dosage
  AND c.reference_dosage <> r.reference
RETURNING c.specialite_id
"""
_SQL_COMPOSITIONS_CREER = """
INSERT INTO referentiel_composition (specialite_id, substance_id, dosage, reference_dosage)
SELECT sp.id, r.substance_id, r.dosage, r.reference
FROM bdpm_composition_resolue r JOIN referentiel_specialite sp ON sp.cis = r.cis
ORDER BY sp.id, r.substance_id, r.dosage
ON CONFLICT (specialite_id, substance_id, dosage) DO NOTHING
RETURNING specialite_id
"""
_SQL_CPD_SUPPRIMER = """
DELETE FROM referentiel_conditionprescription c
USING referentiel_specialite sp, bdpm_specialite b
WHERE c.specialite_id = sp.id AND sp.cis = b.cis
  AND NOT EXISTS (SELECT 1 FROM bdpm_cpd r WHERE r.cis = sp.cis AND r.texte = c.texte)
RETURNING c.specialite_id
"""
_SQL_CPD_CREER = """
INSERT INTO referentiel_conditionprescription (specialite_id, texte)
SELECT sp.id, r.texte FROM bdpm_cpd r JOIN referentiel_specialite sp ON sp.cis = r.cis
ORDER BY sp.id, r.texte
ON CONFLICT (specialite_id, texte) DO NOTHING
RETURNING specialite_id
"""


def _copier(cursor, table: str, colonnes: str, lignes) -> None:
    with cursor.copy(f"COPY {table} ({colonnes}) FROM STDIN") as copie:
        for ligne in lignes:
            copie.write_row(ligne)


def _ids(cursor) -> list[int]:
    return [ligne[0] for ligne in cursor.fetchall()]


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


def _ecrire(donnees: _Donnees, bilans: dict[str, Bilan], par, progression: tqdm) -> set[int]:
    """Merge the rows into the catalogue; return the ids of existing spécialités whose search document changes
    (new ones get theirs as they are created)."""
    maintenant = timezone.now()
    bilan_cis, bilan_compo, bilan_cpd = bilans[FICHIER_CIS], bilans[FICHIER_COMPO], bilans[FICHIER_CPD]
    bilan_labo, bilan_substance = bilans["laboratoires"], bilans["substances"]
    a_reindexer: set[int] = set()
    fiches_avant = _etat_des_fiches({ligne[0] for ligne in donnees.specialites})

    with connection.cursor() as cursor:
        cursor.execute(_SQL_TABLES_TEMPORAIRES)
        _copier(
            cursor,
            "bdpm_specialite",
            "cis, nom, forme, voies, titulaire, statut_administratif, etat_commercialisation, statut_amm, date_amm, "
            "reserve_hospitalier, restriction",
            donnees.specialites,
        )
        _copier(cursor, "bdpm_laboratoire", "nom", ((nom,) for nom in sorted(donnees.laboratoires)))
        _copier(cursor, "bdpm_substance", "code, dci", donnees.substances)
        _copier(cursor, "bdpm_composition", "cis, code, dci, dosage, reference, rang", donnees.compositions)
        _copier(cursor, "bdpm_cpd", "cis, texte", donnees.cpd)
        progression.update(1)

        cursor.execute(_SQL_LABORATOIRES_CREER)
        bilan_labo.crees = cursor.fetchone()[0]
        cursor.execute(_SQL_LABORATOIRES_MARQUER)
        bilan_labo.mis_a_jour = cursor.rowcount
        bilan_labo.inchanges = bilan_labo.lignes - bilan_labo.crees - bilan_labo.mis_a_jour

        cursor.execute(_SQL_SUBSTANCES_RENOMMER)
        renommees = _ids(cursor)
        cursor.execute(_SQL_SUBSTANCES_RATTACHER)
        bilan_substance.mis_a_jour = len(renommees) + cursor.rowcount
        cursor.execute(_SQL_SUBSTANCES_CREER)
        bilan_substance.crees = cursor.rowcount
        bilan_substance.inchanges = bilan_substance.lignes - bilan_substance.crees - bilan_substance.mis_a_jour
        if renommees:
            cursor.execute(
                "SELECT DISTINCT specialite_id FROM referentiel_composition WHERE substance_id = ANY(%s)", [renommees]
            )
            a_reindexer.update(_ids(cursor))
        cursor.execute(_SQL_COMPOSITIONS_RESOUDRE)
        progression.update(1)

        cursor.execute(_SQL_SPECIALITES_METTRE_A_JOUR, {"maintenant": maintenant})
        mises_a_jour = _ids(cursor)
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
        a_reindexer.update(mises_a_jour)
        progression.update(1)

        cursor.execute("SELECT count(*) FROM bdpm_composition_resolue")
        total_compositions = cursor.fetchone()[0]
        cursor.execute(_SQL_COMPOSITIONS_SUPPRIMER)
        supprimees = _ids(cursor)
        cursor.execute(_SQL_COMPOSITIONS_METTRE_A_JOUR)
        modifiees = _ids(cursor)
        cursor.execute(_SQL_COMPOSITIONS_CREER)
        ajoutees = _ids(cursor)
        bilan_compo.crees, bilan_compo.mis_a_jour, bilan_compo.supprimes = (
            len(ajoutees),
            len(modifiees),
            len(supprimees),
        )
        bilan_compo.inchanges = total_compositions - bilan_compo.crees - bilan_compo.mis_a_jour
        compositions_changees = set(supprimees) | set(modifiees) | set(ajoutees)
        a_reindexer.update(set(supprimees) | set(ajoutees))
        progression.update(1)

        cursor.execute(_SQL_CPD_SUPPRIMER)
        cpd_supprimees = _ids(cursor)
        cursor.execute(_SQL_CPD_CREER)
        cpd_ajoutees = _ids(cursor)
        bilan_cpd.crees, bilan_cpd.supprimes = len(cpd_ajoutees), len(cpd_supprimees)
        bilan_cpd.inchanges = len(donnees.cpd) - bilan_cpd.crees
        progression.update(1)

        # A spécialité whose composition or CPD changed was updated too: its fiche shows them.
        autres = (compositions_changees | set(cpd_supprimees) | set(cpd_ajoutees)) - creees - set(mises_a_jour)
        if autres:
            cursor.execute(
                "UPDATE referentiel_specialite SET mis_a_jour_le = %s WHERE id = ANY(%s)", [maintenant, list(autres)]
            )
        cursor.execute(f"DROP TABLE IF EXISTS {_TEMPORAIRES}")

    _historiser(fiches_avant, par, maintenant)
    return a_reindexer - creees


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
    chemins = {nom: dossier / nom for nom in FICHIERS}
    # One tick per line read (counted from the byte size, cheap) plus one per writing step.
    total = sum(chemins[nom].read_bytes().count(b"\n") for nom in FICHIERS) + 6
    with tqdm(
        total=total, desc="Import BDPM", unit="ligne", file=sys.stderr, disable=not progression, leave=False
    ) as barre:
        specialites = _lire_cis(chemins[FICHIER_CIS], bilans[FICHIER_CIS], barre)
        compositions, substances = _lire_compo(chemins[FICHIER_COMPO], bilans[FICHIER_COMPO], specialites, barre)
        cpd = _lire_cpd(chemins[FICHIER_CPD], bilans[FICHIER_CPD], specialites, barre)
        for nom in FICHIERS:
            bilan = bilans[nom]
            bilan.rejets.sort(key=lambda rejet: rejet.ligne)
            if bilan.lignes and len(bilan.rejets) == bilan.lignes:
                raise ReferentielError(
                    f"Import annulé : aucune ligne de {nom} n'est au format BDPM attendu (première erreur ligne "
                    f"{bilan.rejets[0].ligne} : {bilan.rejets[0].motif}). Rien n'a été importé."
                )

        cpd_par_cis: dict[str, list[str]] = {}
        for cis, texte in cpd:
            cpd_par_cis.setdefault(cis, []).append(texte)
        donnees = _Donnees(compositions=compositions, cpd=cpd, substances=substances)
        for cis, nom, forme, voies, titulaire, statut, etat, statut_amm, date_amm, titulaires in specialites.values():
            donnees.laboratoires.update(titulaires)
            reserve, restriction = _cpd_de_specialite(cpd_par_cis.get(cis, []))
            donnees.specialites.append(
                (cis, nom, forme, voies, titulaire, statut, etat, statut_amm, date_amm, reserve, restriction)
            )
        bilans["laboratoires"].lignes = len(donnees.laboratoires)
        bilans["substances"].lignes = len(substances)

        with transaction.atomic():
            a_reindexer = _ecrire(donnees, bilans, par, barre)
            specialites_indexer(ids=sorted(a_reindexer))
            barre.update(1)
    return RapportImport(bilans=bilans, specialites_reindexees=len(a_reindexer), duree=time.perf_counter() - debut)
