"""The back-office finds any spécialité of the catalogue, BDPM imports without a status included, although the
import builds no search document for those (they are not in the public référentiel, R1)."""

import pytest

from referentiel import selectors, services
from referentiel.enums import PhaseAAP, TypeAcces
from referentiel.importation import FICHIER_CIS, FICHIER_COMPO, FICHIER_CPD, bdpm_importer
from referentiel.models import Specialite

pytestmark = pytest.mark.django_db


def ecrire(dossier, cis, compo):
    for nom, lignes in ((FICHIER_CIS, cis), (FICHIER_COMPO, compo), (FICHIER_CPD, [])):
        (dossier / nom).write_bytes("".join(f"{ligne}\r\n" for ligne in lignes).encode("cp1252"))


def ligne_cis(cis, nom, titulaire):
    return "\t".join(
        [cis, nom, "comprimé", "orale", "Autorisation active", "Procédure nationale", "Commercialisée", "12/03/1998"]
        + ["", "", f" {titulaire}", "Non"]
    )


def ligne_compo(cis, code, dci):
    return "\t".join([cis, "comprimé", code, dci, "500 mg", "un comprimé", "SA", "1"]) + "\t"


@pytest.fixture
def catalogue(tmp_path):
    ecrire(
        tmp_path,
        cis=[
            ligne_cis("60000001", "DOLIPRANE 500 mg, comprimé", "SANOFI AVENTIS FRANCE"),
            ligne_cis("60000002", "HÉPARINE SODIQUE CHOAY 5000 UI", "SANOFI AVENTIS FRANCE"),
            ligne_cis("60000003", "IMBRUVICA 140 mg, gélule", "JANSSEN CILAG"),
        ],
        compo=[
            ligne_compo("60000001", "02202", "PARACÉTAMOL"),
            ligne_compo("60000002", "03030", "HÉPARINE SODIQUE"),
            ligne_compo("60000003", "91234", "IBRUTINIB"),
        ],
    )
    bdpm_importer(dossier=tmp_path)
    return {sp.cis: sp for sp in Specialite.objects.all()}


def trouvees(texte):
    return [sp.cis for sp in selectors.gestion_specialites(texte=texte)]


def test_catalogue_rows_have_no_search_document_yet_the_back_office_finds_them(catalogue):
    assert not Specialite.objects.filter(document_recherche__isnull=False).exists()

    assert trouvees("doliprane") == ["60000001"]  # the name
    assert trouvees("paracetamol") == ["60000001"]  # a DCI, accents ignored
    assert trouvees("heparine choay") == ["60000002"]  # every word, accents ignored
    assert trouvees("janssen") == ["60000003"]  # the laboratory
    assert sorted(trouvees("sanofi")) == ["60000001", "60000002"]
    assert trouvees("doliprane janssen") == []
    assert trouvees("60000003") == ["60000003"]  # the exact CIS code


def test_a_catalogue_row_given_a_status_is_found_by_the_full_text_search_then(catalogue):
    imbruvica = catalogue["60000003"]
    services.acces_creer(specialite=imbruvica, type_acces=TypeAcces.AAP, phase_aap=PhaseAAP.POST_AMM)

    # Word forms now match (the French full-text document), as on the public list, and it ranks above the rows
    # found by name only.
    assert trouvees("gélules") == ["60000003"]
    assert [sp.cis for sp in selectors.gestion_specialites(texte="ibrutinib")] == ["60000003"]
    premiere = selectors.gestion_specialites(texte="imbruvica").first()
    assert premiere.cis == "60000003" and premiere.pertinence > 0
