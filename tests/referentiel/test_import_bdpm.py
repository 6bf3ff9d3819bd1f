"""Import of the public BDPM files (issue 3): real files, idempotency, malformed lines, one transaction."""

import datetime
import gc
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.management import CommandError, call_command
from django.db import connection

from comptes.enums import OperationAudit
from comptes.models import JournalAudit
from referentiel import services
from referentiel.enums import PhaseAAP, StatutAMM, TypeAcces
from referentiel.exceptions import ReferentielError
from referentiel.importation import FICHIER_CIS, FICHIER_COMPO, FICHIER_CPD, bdpm_importer
from referentiel.models import (
    Composition,
    ConditionPrescription,
    HistoriqueFiche,
    Laboratoire,
    Specialite,
    Substance,
)
from tests.factories import AccesFactory, SpecialiteFactory, SubstanceFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db

BDPM_2017 = Path(settings.BASE_DIR).parent / "shared" / "data" / "bdpm-2017"


@pytest.fixture
def bdpm_2017() -> Path:
    if not (BDPM_2017 / FICHIER_CIS).is_file():
        pytest.skip(f"Fichiers BDPM réels absents ({BDPM_2017}) : import réel non testé sur ce poste")
    return BDPM_2017


def ligne_cis(
    cis="60000001",
    nom="DOLIPRANE 500 mg, comprimé",
    forme="comprimé",
    voies="orale",
    statut="Autorisation active",
    etat="Commercialisée",
    date="12/03/1998",
    titulaires=" SANOFI AVENTIS FRANCE",
) -> str:
    return "\t".join([cis, nom, forme, voies, statut, "Procédure nationale", etat, date, "", "", titulaires, "Non"])


def ligne_compo(cis="60000001", code="02202", dci="PARACÉTAMOL", dosage="500 mg", nature="SA") -> str:
    # Real COMPO lines end with an extra TAB.
    return "\t".join([cis, "comprimé", code, dci, dosage, "un comprimé", nature, "1"]) + "\t"


def ecrire_bdpm(dossier: Path, cis=(), compo=(), cpd=(), fin_de_ligne="\r\n") -> Path:
    """Write the three files as the BDPM publishes them: Windows-1252, TAB-separated, CRLF."""
    dossier.mkdir(parents=True, exist_ok=True)
    for nom, lignes in ((FICHIER_CIS, cis), (FICHIER_COMPO, compo), (FICHIER_CPD, cpd)):
        contenu = b"".join(
            (ligne if isinstance(ligne, bytes) else ligne.encode("cp1252")) + fin_de_ligne.encode() for ligne in lignes
        )
        (dossier / nom).write_bytes(contenu)
    return dossier


def rejets(rapport, fichier) -> list[tuple[int, str]]:
    return [(r.ligne, r.motif) for r in rapport.bilans[fichier].rejets]


# How imports derived a fiche's address in SQL before it was computed in Python (referentiel.importation._slugs).
SLUG_SQL = (
    "concat_ws('-', nullif(left(btrim(regexp_replace(lower(immutable_unaccent(nom)), '[^a-z0-9]+', '-', 'g'), '-'), "
    "100), ''), cis)"
)
TABLES_CATALOGUE = [
    "referentiel_specialite",
    "referentiel_composition",
    "referentiel_conditionprescription",
    "referentiel_substance",
]


def structure(tables=TABLES_CATALOGUE) -> list[str]:
    """Every index and constraint of these tables, as PostgreSQL would re-create it, and whether it is validated."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = ANY(%(t)s::text[]::regclass[])
            UNION ALL
            SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
            FROM pg_constraint WHERE conrelid = ANY(%(t)s::text[]::regclass[])
            """,
            {"t": tables},
        )
        return sorted(ligne[0] for ligne in cursor.fetchall())


# --- The real files -----------------------------------------------------------------------------------------------


def test_import_of_the_real_bdpm_files_creates_every_row_with_accents_decoded(bdpm_2017):
    avant = structure()
    rapport = bdpm_importer(dossier=bdpm_2017)

    # Into an empty catalogue, the import builds the indexes and constraints after the rows: all are back, checked.
    assert rapport.premier_chargement
    assert gc.isenabled()  # paused while reading and writing, then given back
    assert structure() == avant
    assert len(avant) > 10

    assert rapport.rejets == 0
    assert Specialite.objects.count() == 14442
    assert rapport.bilans[FICHIER_CIS].crees == 14442
    # 27,023 lines; the same substance and dosage in two elements of one spécialité is one composition.
    assert rapport.bilans[FICHIER_COMPO].lignes == 27023
    assert Composition.objects.count() == rapport.bilans[FICHIER_COMPO].crees == 27023 - 2398
    assert ConditionPrescription.objects.count() == 19106
    assert Laboratoire.objects.count() == rapport.bilans["laboratoires"].crees == 615
    assert Substance.objects.count() == rapport.bilans["substances"].crees

    pommade = Specialite.objects.select_related("titulaire").get(cis="61266250")
    assert pommade.nom == "A 313 200 000 UI POUR CENT, pommade"
    assert pommade.slug == "a-313-200-000-ui-pour-cent-pommade-61266250"
    assert pommade.voies_administration == "cutanée"
    assert pommade.titulaire.nom == "PHARMA DEVELOPPEMENT"
    assert pommade.statut_administratif_bdpm == "Autorisation active"
    assert pommade.etat_commercialisation_bdpm == "Commercialisée"
    assert pommade.statut_amm == StatutAMM.AUTORISEE
    assert pommade.date_amm == datetime.date(1998, 3, 12)
    assert not pommade.demonstration
    assert not pommade.acces.exists()  # in the catalogue, not in the public référentiel (R1)
    assert ConditionPrescription.objects.filter(
        specialite__cis="60355340", texte="réservé à l'usage professionnel DENTAIRE"
    ).exists()
    anastrozole = Composition.objects.select_related("substance").get(specialite__cis="60002283")
    assert (anastrozole.substance.dci, anastrozole.substance.code_bdpm, anastrozole.dosage) == (
        "ANASTROZOLE",
        "42215",
        "1,00 mg",
    )

    # A withdrawn AMM or a product no longer marketed leaves room for an AAC (R5).
    assert (
        Specialite.objects.filter(statut_amm=StatutAMM.ARRETEE).count()
        == 14442
        - Specialite.objects.filter(
            statut_administratif_bdpm="Autorisation active", etat_commercialisation_bdpm="Commercialisée"
        ).count()
    )

    # Catalogue rows are not in the référentiel (R1): no search document for the index to hold.
    assert not Specialite.objects.filter(document_recherche__isnull=False).exists()
    # Each address is the one earlier imports derived in SQL (an address never changes, so both must agree).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM referentiel_specialite WHERE slug <> {SLUG_SQL}")
        assert cursor.fetchone()[0] == 0
    # A status added to a catalogue row puts it in the référentiel: the service indexes it there and then.
    for specialite in (pommade, Specialite.objects.get(pk=anastrozole.specialite_id)):
        services.acces_creer(specialite=specialite, type_acces=TypeAcces.AAP, phase_aap=PhaseAAP.POST_AMM)
    assert Specialite.objects.filter(
        pk=pommade.pk, document_recherche=SearchQuery("vitamine synthetique", config="french_unaccent")
    ).exists()
    assert Specialite.objects.filter(
        pk=anastrozole.specialite_id, document_recherche=SearchQuery("anastrozole", config="french_unaccent")
    ).exists()

    # Second run of the same files: nothing created, nothing updated, nothing re-indexed.
    mis_a_jour_le = Specialite.objects.get(cis="61266250").mis_a_jour_le
    encore = bdpm_importer(dossier=bdpm_2017)
    assert not encore.premier_chargement
    for bilan in encore.bilans.values():
        assert (bilan.crees, bilan.mis_a_jour, bilan.supprimes) == (0, 0, 0), bilan.nom
    assert encore.bilans[FICHIER_CIS].inchanges == 14442
    assert encore.specialites_reindexees == 0
    assert Specialite.objects.filter(document_recherche__isnull=False).count() == 2
    assert Specialite.objects.get(cis="61266250").mis_a_jour_le == mis_a_jour_le
    assert Composition.objects.count() == 27023 - 2398


def test_a_slice_of_the_real_files_imports_only_its_rows_and_rejects_lines_of_other_cis(bdpm_2017, tmp_path):
    lignes_cis = (bdpm_2017 / FICHIER_CIS).read_bytes().split(b"\r\n")[:300]
    gardes = {ligne.split(b"\t")[0] for ligne in lignes_cis}
    compo = [ligne for ligne in (bdpm_2017 / FICHIER_COMPO).read_bytes().split(b"\r\n") if ligne][:2000]
    ecrire_bdpm(tmp_path, cis=lignes_cis, compo=compo, cpd=[])

    rapport = bdpm_importer(dossier=tmp_path)

    assert Specialite.objects.count() == 300
    hors_tranche = [numero for numero, ligne in enumerate(compo, 1) if ligne.split(b"\t")[0] not in gardes]
    assert [ligne for ligne, _ in rejets(rapport, FICHIER_COMPO)] == hors_tranche
    assert all("absent de CIS_bdpm.txt" in motif for _, motif in rejets(rapport, FICHIER_COMPO))
    assert Composition.objects.filter(specialite__cis__in=[g.decode() for g in gardes]).exists()


def contenu_du_catalogue() -> dict[str, list]:
    """Every row the import writes, by natural keys (no ids, no dates of writing)."""
    return {
        "specialites": sorted(
            Specialite.objects.values_list(
                "cis",
                "nom",
                "slug",
                "forme_pharmaceutique",
                "voies_administration",
                "titulaire__nom",
                "statut_administratif_bdpm",
                "etat_commercialisation_bdpm",
                "statut_amm",
                "date_amm",
                "reserve_hospitalier",
                "restriction_prescripteurs",
                "publiee",
                "document_recherche",
            )
        ),
        "compositions": sorted(
            Composition.objects.values_list("specialite__cis", "substance__code_bdpm", "dosage", "reference_dosage")
        ),
        "cpd": sorted(ConditionPrescription.objects.values_list("specialite__cis", "texte")),
        "substances": sorted(Substance.objects.values_list("code_bdpm", "dci")),
        "laboratoires": sorted(Laboratoire.objects.values_list("nom", "est_titulaire")),
    }


def test_the_first_load_and_the_merge_write_the_same_rows(bdpm_2017, tmp_path):
    lignes_cis = (bdpm_2017 / FICHIER_CIS).read_bytes().split(b"\r\n")[:400]
    gardes = {ligne.split(b"\t")[0] for ligne in lignes_cis}
    compo, cpd = (
        [ligne for ligne in (bdpm_2017 / nom).read_bytes().splitlines() if ligne.split(b"\t")[0] in gardes]
        for nom in (FICHIER_COMPO, FICHIER_CPD)
    )
    ecrire_bdpm(tmp_path, cis=lignes_cis, compo=compo, cpd=cpd)
    assert bdpm_importer(dossier=tmp_path).premier_chargement
    copie = contenu_du_catalogue()
    assert len(copie["cpd"]) > 300 and len(copie["compositions"]) > 500

    # Emptied in the same transaction: deferred checks are pending, so the next import merges row by row.
    ConditionPrescription.objects.all().delete()
    Composition.objects.all().delete()
    Specialite.objects.all().delete()
    Substance.objects.all().delete()
    Laboratoire.objects.all().delete()
    fusion = bdpm_importer(dossier=tmp_path)

    assert not fusion.premier_chargement
    assert contenu_du_catalogue() == copie


# --- Creating and updating ----------------------------------------------------------------------------------------


def test_import_derives_the_amm_status_from_the_administrative_status_and_the_marketing_state(tmp_path):
    ecrire_bdpm(
        tmp_path,
        cis=[
            ligne_cis("60000001", "ACTIVE COMMERCIALISEE"),
            ligne_cis("60000002", "ACTIVE NON COMMERCIALISEE", etat="Non commercialisée"),
            ligne_cis("60000003", "ABROGEE", statut="Autorisation abrogée", etat="Non commercialisée"),
        ],
    )
    bdpm_importer(dossier=tmp_path)

    statuts = dict(Specialite.objects.values_list("cis", "statut_amm"))
    assert statuts == {
        "60000001": StatutAMM.AUTORISEE,
        "60000002": StatutAMM.ARRETEE,
        "60000003": StatutAMM.ARRETEE,
    }


def test_the_first_load_takes_its_ids_from_the_sequences_and_moves_them_past_its_rows(tmp_path):
    """Into an empty catalogue the ids are reserved up front (one per row, in CIS and code order): the next row
    created by hand gets a new id, and an id taken before the import is not given again."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('referentiel_specialite', 'id'))")
        avant = cursor.fetchone()[0]
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000002", "DEUX"), ligne_cis("60000001", "UN"), ligne_cis("60000003", "TROIS")],
        compo=[
            ligne_compo("60000001", "00002", "BETA"),
            ligne_compo("60000002", "00001", "ALPHA"),
            ligne_compo("60000003", "00002", "BETA", "1 g"),
        ],
    )
    assert bdpm_importer(dossier=tmp_path).premier_chargement

    specialites = list(Specialite.objects.order_by("cis").values_list("cis", "id"))
    assert [cis for cis, _ in specialites] == ["60000001", "60000002", "60000003"]
    ids = [id_ for _, id_ in specialites]
    assert ids == list(range(ids[0], ids[0] + 3)) and ids[0] > avant
    substances = list(Substance.objects.order_by("code_bdpm").values_list("code_bdpm", "id"))
    assert [id_ for _, id_ in substances] == [substances[0][1], substances[0][1] + 1]
    assert {(c.specialite.cis, c.substance.code_bdpm, c.dosage) for c in Composition.objects.all()} == {
        ("60000001", "00002", "500 mg"),
        ("60000002", "00001", "500 mg"),
        ("60000003", "00002", "1 g"),
    }
    assert SpecialiteFactory().pk == ids[-1] + 1
    assert SubstanceFactory().pk == substances[-1][1] + 1


def test_substances_copied_beside_an_existing_catalogue_take_their_ids_from_their_sequence(tmp_path):
    """A catalogue with rows but no substance yet: the substances are copied into their empty table with reserved
    ids, the compositions merged with them, and the next substance created gets the id after them."""
    SpecialiteFactory(cis="60000009", nom="CRÉÉE À LA MAIN")
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001", "UN"), ligne_cis("60000002", "DEUX")],
        compo=[ligne_compo("60000001", "00002", "BETA"), ligne_compo("60000002", "00001", "ALPHA")],
    )
    rapport = bdpm_importer(dossier=tmp_path)

    assert not rapport.premier_chargement and rapport.bilans["substances"].crees == 2
    substances = dict(Substance.objects.values_list("code_bdpm", "id"))
    assert substances["00002"] == substances["00001"] + 1
    assert dict(Composition.objects.values_list("specialite__cis", "substance__code_bdpm")) == {
        "60000001": "00002",
        "60000002": "00001",
    }
    assert SubstanceFactory().pk == substances["00002"] + 1


def test_the_fiche_addresses_are_those_postgresql_would_give_whatever_the_characters(tmp_path):
    """Every non-ASCII letter of Windows-1252 and its symbols, one byte for one letter ("é"), one for two ("œ"), one
    for none ("€"), hyphens and spaces in runs: the addresses computed in Python are those of SQL's unaccent."""
    noms = [
        "ŒUF Æ — ÉLÉGANT’S çà ÿ ß 10 mg/ml",
        "œstradiol «  gel  » – 0,1 % …",
        "€ £ ¥ © ® ° µ ¶ • ™ ¼ ½",
        "--DÉBUT--   et   FIN--",
        "ÀÁÂÃÄÅ ÈÉÊË ÌÍÎÏ ÐÑ ÒÓÔÕÖØ ÙÚÛÜ ÝÞ àáâãäå ç èéêë ìíîï ðñ òóôõöø ùúûü ýþÿ Š š Ž ž Ÿ",
        "€€€",
    ]
    ecrire_bdpm(tmp_path, cis=[ligne_cis(f"6000000{rang}", nom) for rang, nom in enumerate(noms, 1)])
    bdpm_importer(dossier=tmp_path)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cis, slug, {SLUG_SQL} FROM referentiel_specialite ORDER BY cis")
        adresses = cursor.fetchall()
    assert len(adresses) == len(noms)
    assert [(cis, python) for cis, python, _ in adresses] == [(cis, sql) for cis, _, sql in adresses]
    assert adresses[0][1].startswith("oeuf-ae-elegant-s-ca-y-ss-10-mg-ml-")
    assert adresses[5][1] == "60000006"  # no letter left: the CIS alone


def test_the_audit_trail_records_each_imported_row_with_the_importer_as_author(tmp_path):
    """Issue 7's trail covers the COPYs of the import too (statement-level triggers), with its author."""
    administrateur = UtilisateurFactory(administrateur=True)
    ecrire_bdpm(tmp_path, cis=[ligne_cis("60000001", "UN"), ligne_cis("60000002", "DEUX")], compo=[ligne_compo()])
    bdpm_importer(dossier=tmp_path, par=administrateur)

    lignes = JournalAudit.objects.filter(table_nom="referentiel_specialite", operation=OperationAudit.CREATION)
    assert sorted(ligne.apres["cis"] for ligne in lignes) == ["60000001", "60000002"]
    assert {ligne.utilisateur_id for ligne in lignes} == {administrateur.pk}


def test_import_updates_changed_rows_and_removes_lines_the_bdpm_no_longer_has(tmp_path):
    ecrire_bdpm(
        tmp_path / "v1",
        cis=[ligne_cis("60000001"), ligne_cis("60000002", "AUTRE 10 mg, comprimé")],
        compo=[ligne_compo("60000001"), ligne_compo("60000002", "00001", "CAFÉINE", "10 mg")],
        cpd=["60000001\tliste II", "60000001\tprescription hospitalière", "60000002\tliste I"],
    )
    bdpm_importer(dossier=tmp_path / "v1")
    premiere = Specialite.objects.get(cis="60000001")
    slug = premiere.slug
    AccesFactory(specialite=premiere)  # in the référentiel: its search document follows the BDPM

    ecrire_bdpm(
        tmp_path / "v2",
        cis=[
            ligne_cis("60000001", "DOLIPRANE 500 mg, comprimé pelliculé", titulaires=" OPELLA HEALTHCARE;SANOFI"),
            ligne_cis("60000002", "AUTRE 10 mg, comprimé"),
        ],
        compo=[
            ligne_compo("60000001", dosage="500,0 mg"),
            ligne_compo("60000002", "00001", "CAFÉINE", "10 mg"),
        ],
        cpd=["60000001\tliste II", "60000002\tliste I"],
    )
    rapport = bdpm_importer(dossier=tmp_path / "v2")

    cis = rapport.bilans[FICHIER_CIS]
    assert (cis.crees, cis.mis_a_jour, cis.inchanges) == (0, 1, 1)
    compo = rapport.bilans[FICHIER_COMPO]
    assert (compo.crees, compo.supprimes, compo.inchanges) == (1, 1, 1)
    cpd = rapport.bilans[FICHIER_CPD]
    assert (cpd.crees, cpd.supprimes, cpd.inchanges) == (0, 1, 2)
    assert rapport.bilans["laboratoires"].crees == 2
    premiere.refresh_from_db()
    assert premiere.nom == "DOLIPRANE 500 mg, comprimé pelliculé"
    assert premiere.slug == slug  # a fiche's address never changes
    assert premiere.titulaire.nom == "OPELLA HEALTHCARE"
    assert Laboratoire.objects.get(nom="SANOFI").est_titulaire
    assert list(premiere.compositions.values_list("dosage", flat=True)) == ["500,0 mg"]
    assert list(premiere.conditions_prescription.values_list("texte", flat=True)) == ["liste II"]
    assert rapport.specialites_reindexees == 1
    assert Specialite.objects.filter(
        pk=premiere.pk, document_recherche=SearchQuery("pellicule", config="french_unaccent")
    ).exists()
    # The other one is a catalogue row only (no status): nothing to index.
    assert Specialite.objects.get(cis="60000002").document_recherche is None


def test_an_import_into_a_catalogue_emptied_earlier_in_the_transaction_imports_row_by_row(tmp_path):
    # Deleting rows leaves deferred foreign-key checks pending until commit: the tables' indexes and constraints
    # cannot be dropped and rebuilt then, so the import keeps them and inserts through them.
    SpecialiteFactory(cis="60000009").delete()
    avant = structure()
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001"), ligne_cis("60000002", "AUTRE 10 mg, comprimé")],
        compo=[ligne_compo("60000001"), ligne_compo("60000002", "00001", "CAFÉINE", "10 mg")],
        cpd=["60000001\tliste II"],
    )

    rapport = bdpm_importer(dossier=tmp_path)

    assert not rapport.premier_chargement
    assert (rapport.bilans[FICHIER_CIS].crees, rapport.bilans[FICHIER_COMPO].crees) == (2, 2)
    assert sorted(Specialite.objects.values_list("cis", flat=True)) == ["60000001", "60000002"]
    assert ConditionPrescription.objects.get().specialite.cis == "60000001"
    assert structure() == avant


def test_import_historises_what_it_changes_on_a_public_fiche(tmp_path):
    ecrire_bdpm(tmp_path / "v1", cis=[ligne_cis("60000001")], compo=[ligne_compo("60000001")])
    bdpm_importer(dossier=tmp_path / "v1")
    fiche = Specialite.objects.get(cis="60000001")
    AccesFactory(specialite=fiche)
    ecrire_bdpm(
        tmp_path / "v2",
        cis=[ligne_cis("60000001", etat="Non commercialisée")],
        compo=[ligne_compo("60000001", dosage="1 g")],
    )

    bdpm_importer(dossier=tmp_path / "v2")

    historique = HistoriqueFiche.objects.get(specialite=fiche)
    assert historique.action == "Mise à jour depuis la BDPM"
    assert historique.auteur is None
    assert historique.avant == {
        "etat_commercialisation_bdpm": "Commercialisée",
        "statut_amm": "autorisee",
        "composition": ["PARACÉTAMOL 500 mg"],
    }
    assert historique.apres == {
        "etat_commercialisation_bdpm": "Non commercialisée",
        "statut_amm": "arretee",
        "composition": ["PARACÉTAMOL 1 g"],
    }


def test_import_attaches_the_bdpm_code_to_a_substance_already_known_by_its_dci(tmp_path):
    ibrutinib = SubstanceFactory(dci="ibrutinib")
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001", "IMBRUVICA 140 mg, gélule")],
        compo=[ligne_compo("60000001", "91234", "IBRUTINIB", "140 mg")],
    )

    rapport = bdpm_importer(dossier=tmp_path)

    ibrutinib.refresh_from_db()
    assert (ibrutinib.dci, ibrutinib.code_bdpm) == ("ibrutinib", "91234")
    assert rapport.bilans["substances"].mis_a_jour == 1
    assert Substance.objects.count() == 1
    assert Composition.objects.get().substance == ibrutinib


def test_import_keeps_one_name_per_substance_code_when_the_bdpm_spells_it_several_ways(tmp_path):
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001"), ligne_cis("60000002"), ligne_cis("60000003")],
        compo=[
            ligne_compo("60000001", "25783", "CHLORHYDRATE DE RANITIDINE", "168 mg"),
            ligne_compo("60000002", "25783", "RANITIDINE (CHLORHYDRATE DE)", "168 mg"),
            ligne_compo("60000003", "25783", "CHLORHYDRATE DE RANITIDINE", "84 mg"),
        ],
    )
    bdpm_importer(dossier=tmp_path)

    assert list(Substance.objects.values_list("code_bdpm", "dci")) == [("25783", "CHLORHYDRATE DE RANITIDINE")]
    assert Composition.objects.count() == 3


# --- Malformed lines and fatal problems ---------------------------------------------------------------------------


def test_each_malformed_line_is_rejected_with_its_number_and_reason_and_the_rest_is_imported(tmp_path):
    ecrire_bdpm(
        tmp_path,
        cis=[
            ligne_cis("60000001"),
            "60000002\tTROP COURTE\tcomprimé",
            ligne_cis("6000003", "CIS A 7 CHIFFRES"),
            ligne_cis("60000004", "DATE IMPOSSIBLE", date="31/02/2010"),
            ligne_cis("60000001", "EN DOUBLE"),
            b"60000006\tOCTET \x81 IND\xc9FINI\tcomprim\xe9\torale\tAutorisation active\tProc\xe9dure nationale\t"
            b"Commercialis\xe9e\t01/01/2000\t\t\t LABO\tNon",
            ligne_cis("60000007", "HÉPARINE SODIQUE 5000 UI/ml, solution injectable"),
        ],
        compo=[
            ligne_compo("60000001"),
            ligne_compo("69999999", "00001", "INCONNUE"),
            ligne_compo("60000007", "00002", "HÉPARINE SODIQUE", "5000 UI", nature="XX"),
            "60000007\tsolution\t00002",
        ],
        cpd=["60000001\tliste II", "", "   ", "60000001\t", "69999999\tliste I", "60000007\tliste I"],
    )

    rapport = bdpm_importer(dossier=tmp_path)

    assert rejets(rapport, FICHIER_CIS) == [
        (2, "3 colonnes au lieu de 12"),
        (3, "code CIS « 6000003 » invalide : 8 chiffres attendus"),
        (4, "date d'AMM « 31/02/2010 » invalide : JJ/MM/AAAA attendu"),
        (5, "code CIS 60000001 en double (déjà ligne 1)"),
        (6, "octet 0x81 indéfini en Windows-1252 (position 16)"),
    ]
    assert rejets(rapport, FICHIER_COMPO) == [
        (2, "code CIS 69999999 absent de CIS_bdpm.txt (ou rejeté)"),
        (3, "nature du composant « XX » inconnue : SA ou FT attendu"),
        (4, "3 colonnes au lieu de 8"),
    ]
    # Blank lines are no error; a CPD line without a condition is ignored.
    assert rejets(rapport, FICHIER_CPD) == [(5, "code CIS 69999999 absent de CIS_bdpm.txt (ou rejeté)")]
    assert rapport.bilans[FICHIER_CPD].ignores == 1
    assert sorted(Specialite.objects.values_list("cis", "nom")) == [
        ("60000001", "DOLIPRANE 500 mg, comprimé"),
        ("60000007", "HÉPARINE SODIQUE 5000 UI/ml, solution injectable"),
    ]
    assert ConditionPrescription.objects.count() == 2


def test_mixed_line_endings_and_the_trailing_tab_of_compo_lines_are_read(tmp_path):
    ecrire_bdpm(tmp_path, compo=[ligne_compo("60000001")], cpd=["60000001\tliste II"])
    (tmp_path / FICHIER_CIS).write_bytes(
        (ligne_cis("60000001") + "\r\n" + ligne_cis("60000002", "ÉLÉMENT 2") + "\n").encode("cp1252")
    )

    rapport = bdpm_importer(dossier=tmp_path)

    assert rapport.rejets == 0
    assert set(Specialite.objects.values_list("nom", flat=True)) == {"DOLIPRANE 500 mg, comprimé", "ÉLÉMENT 2"}
    assert Composition.objects.count() == 1


def test_a_missing_file_is_fatal_and_nothing_is_written(tmp_path):
    ecrire_bdpm(tmp_path, cis=[ligne_cis()])
    (tmp_path / FICHIER_CPD).unlink()

    with pytest.raises(ReferentielError, match="introuvable.*CIS_CPD_bdpm.txt"):
        bdpm_importer(dossier=tmp_path)
    assert not Specialite.objects.exists()


def test_a_file_without_one_valid_line_is_fatal_and_nothing_is_written(tmp_path):
    # The CPD file given where the COMPO file was expected: a wrong file, not a few bad lines. The composition file is
    # read while the spécialités are written: that writing is rolled back.
    ecrire_bdpm(tmp_path, cis=[ligne_cis()], compo=["60000001\tliste II"], cpd=["60000001\tliste II"])

    with pytest.raises(ReferentielError, match="aucune ligne de CIS_COMPO_bdpm.txt"):
        bdpm_importer(dossier=tmp_path)
    assert not Specialite.objects.exists()
    assert not Laboratoire.objects.exists()


def test_a_cpd_file_without_one_valid_line_is_fatal_and_nothing_is_written(tmp_path):
    # A wrong CPD file is found before anything is written; a wrong composition file, once the writing began.
    ecrire_bdpm(tmp_path, cis=[ligne_cis()], compo=[ligne_compo()], cpd=["60000001	liste II	de trop"])

    with pytest.raises(ReferentielError, match="aucune ligne de CIS_CPD_bdpm.txt"):
        bdpm_importer(dossier=tmp_path)
    assert not Specialite.objects.exists()
    assert not Laboratoire.objects.exists()


def test_a_conflict_found_while_writing_rolls_back_everything_already_written(tmp_path):
    # A fiche created by hand already uses the address the import derives for a BDPM spécialité.
    SpecialiteFactory(nom="Créée à la main", slug="doliprane-500-mg-comprime-60000002", titulaire=None)
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001", "NOUVEAU 1 mg, comprimé", titulaires=" LABO NOUVEAU"), ligne_cis("60000002")],
        compo=[ligne_compo("60000001", "77777", "SUBSTANCE NOUVELLE")],
    )

    with pytest.raises(ReferentielError, match="rien n'a été importé"):
        bdpm_importer(dossier=tmp_path)

    # Laboratories and substances were written before the conflict: they are gone with the rest.
    assert not Laboratoire.objects.filter(nom="LABO NOUVEAU").exists()
    assert not Substance.objects.exists()
    assert list(Specialite.objects.values_list("nom", flat=True)) == ["Créée à la main"]


# --- The command --------------------------------------------------------------------------------------------------


def test_the_command_reports_counts_per_file_and_each_rejected_line(tmp_path, capsys):
    ecrire_bdpm(
        tmp_path,
        cis=[ligne_cis("60000001"), ligne_cis("ABC", "MAUVAIS")],
        compo=[ligne_compo("60000001")],
        cpd=["60000001\tliste II"],
    )
    sortie = io.StringIO()

    call_command("import_bdpm", str(tmp_path), stdout=sortie)

    texte = sortie.getvalue()
    assert "CIS_bdpm.txt         2 lignes : 1 créées, 0 mises à jour, 0 inchangées, 1 rejetées" in texte
    assert "CIS_COMPO_bdpm.txt   1 lignes : 1 créées, 0 mises à jour, 0 inchangées, 0 rejetées" in texte
    assert "Rejet CIS_bdpm.txt ligne 2 : code CIS « ABC » invalide : 8 chiffres attendus" in texte
    assert "Premier chargement : index et contraintes construits après les lignes." in texte
    # Not a terminal: no progress bar on stderr.
    assert capsys.readouterr().err == ""

    sortie = io.StringIO()
    call_command("import_bdpm", str(tmp_path), "--quiet", stdout=sortie)
    assert "CIS_bdpm.txt         2 lignes : 0 créées, 0 mises à jour, 1 inchangées, 1 rejetées" in sortie.getvalue()
    assert "Premier chargement" not in sortie.getvalue()


def test_the_command_fails_with_a_french_message_when_the_directory_has_no_bdpm_files(tmp_path):
    with pytest.raises(CommandError, match="Fichier\\(s\\) BDPM introuvable\\(s\\)"):
        call_command("import_bdpm", str(tmp_path / "absent"), stdout=io.StringIO())


def test_the_progress_bar_goes_to_stderr_when_asked_and_never_into_the_report(tmp_path, capsys):
    ecrire_bdpm(tmp_path, cis=[ligne_cis()], compo=[ligne_compo()], cpd=["60000001\tliste II"])

    bdpm_importer(dossier=tmp_path, progression=True)

    sortie = capsys.readouterr()
    assert "Import BDPM" in sortie.err
    assert sortie.out == ""
