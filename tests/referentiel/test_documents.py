"""Documents of a fiche: accepted by their content and size, never by their name; stored out of the web root."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from referentiel import services
from referentiel.documents import DOCX, JPEG, ODT, PDF, PNG, detecter_type
from referentiel.enums import TypeDocument
from referentiel.exceptions import ReferentielError
from referentiel.models import Document, HistoriqueFiche
from tests.factories.comptes import UtilisateurFactory
from tests.factories.referentiel import AccesFactory, SpecialiteFactory, pdf_minimal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def evaluateur():
    return UtilisateurFactory(evaluateur=True)


def image(format_: str) -> bytes:
    tampon = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(tampon, format=format_)
    return tampon.getvalue()


def odt() -> bytes:
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODT)  # first and stored, as the format requires
        archive.writestr("content.xml", "<office:document-content/>")
    return tampon.getvalue()


def docx() -> bytes:
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return tampon.getvalue()


def zip_quelconque() -> bytes:
    tampon = io.BytesIO()
    with zipfile.ZipFile(tampon, "w") as archive:
        archive.writestr("lisez-moi.txt", "pas un document")
    return tampon.getvalue()


def ajouter(evaluateur, contenu: bytes, nom: str, **champs):
    specialite = champs.pop("specialite", None) or SpecialiteFactory()
    return services.document_ajouter(
        specialite=specialite,
        type_document=champs.pop("type_document", TypeDocument.RCP),
        titre=champs.pop("titre", "Résumé des caractéristiques du produit"),
        fichier=SimpleUploadedFile(nom, contenu, content_type="application/pdf"),
        par=evaluateur,
        **champs,
    )


@pytest.mark.parametrize(
    ("contenu", "attendu"),
    [
        (pdf_minimal(), PDF),
        (image("PNG"), PNG),
        (image("JPEG"), JPEG),
        (odt(), ODT),
        (docx(), DOCX),
        (b"MZ\x90\x00 executable", None),
        (b"<html><script>alert(1)</script></html>", None),
        (zip_quelconque(), None),
        (b"PK\x03\x04 archive tronquee", None),
    ],
    ids=["pdf", "png", "jpeg", "odt", "docx", "exe", "html", "zip", "zip-tronque"],
)
def test_the_type_is_read_from_the_first_bytes_and_the_archive_manifest(contenu, attendu):
    assert detecter_type(io.BytesIO(contenu)) == attendu


def test_a_pdf_is_stored_under_media_root_with_a_name_from_its_title_and_its_real_type(evaluateur, media):
    acces = AccesFactory()
    # Whatever the uploader calls it, a PDF is stored as a .pdf.
    document = ajouter(
        evaluateur, pdf_minimal("RCP"), "../../rcp.exe", specialite=acces.specialite, acces=acces, version="2"
    )

    chemin = Path(document.fichier.path)
    assert chemin.is_relative_to(media)
    assert chemin.name.startswith("resume-des-caracteristiques-du-produit") and chemin.suffix == ".pdf"
    assert chemin.read_bytes().startswith(b"%PDF-")
    assert (document.type_mime, document.taille, document.version) == (PDF, chemin.stat().st_size, "2")
    historique = HistoriqueFiche.objects.get(specialite=acces.specialite)
    assert historique.action == "Ajout d'un document"
    assert historique.apres["fichier"] == document.fichier.name


def test_an_odt_named_like_a_pdf_is_accepted_as_an_odt(evaluateur):
    document = ajouter(evaluateur, odt(), "lettre.pdf", type_document=TypeDocument.LETTRE_INFO, titre="Lettre")
    assert document.type_mime == ODT
    assert document.fichier.name.endswith("lettre.odt")


@pytest.mark.parametrize(
    ("contenu", "nom"),
    [
        (b"MZ\x90\x00 executable renomme", "rcp.pdf"),
        (b"%!PS-Adobe-3.0 PostScript", "rcp.pdf"),
        (zip_quelconque(), "rcp.docx"),
    ],
    ids=["exe-nomme-pdf", "postscript", "zip-nomme-docx"],
)
def test_a_file_that_is_not_an_accepted_format_is_refused_whatever_its_name(evaluateur, media, contenu, nom):
    with pytest.raises(ReferentielError) as erreur:
        ajouter(evaluateur, contenu, nom)
    assert str(erreur.value) == (
        f"« {nom} » n'est pas un document accepté : son contenu doit être au format PDF, PNG, JPEG, ODT ou DOCX "
        "(l'extension du nom ne suffit pas)."
    )
    assert erreur.value.champ == "fichier"
    assert not Document.objects.exists()
    assert not any(Path(media).rglob("*.*"))


def test_a_file_bigger_than_document_max_size_is_refused(evaluateur, settings, media):
    settings.DOCUMENT_MAX_SIZE = 2 * 1024 * 1024
    contenu = pdf_minimal() + b"0" * (3 * 1024 * 1024)
    with pytest.raises(ReferentielError, match="Le fichier pèse 3 Mo : la taille maximale est de 2 Mo."):
        ajouter(evaluateur, contenu, "gros.pdf")
    assert not Document.objects.exists()
    assert not any(Path(media).rglob("*.*"))


def test_an_empty_file_is_refused(evaluateur):
    with pytest.raises(ReferentielError, match="Le fichier est vide."):
        ajouter(evaluateur, b"", "vide.pdf")


def test_a_document_of_another_specialite_status_is_refused(evaluateur):
    with pytest.raises(ReferentielError, match="même spécialité"):
        ajouter(evaluateur, pdf_minimal(), "rcp.pdf", acces=AccesFactory())


def test_only_the_ansm_adds_a_document(media):
    with pytest.raises(ReferentielError, match="Seuls les évaluateurs"):
        ajouter(UtilisateurFactory(prescripteur=True), pdf_minimal(), "rcp.pdf")


def test_document_supprimer_removes_the_file_once_committed(evaluateur, django_capture_on_commit_callbacks):
    document = ajouter(evaluateur, pdf_minimal(), "rcp.pdf")
    chemin = Path(document.fichier.path)

    with django_capture_on_commit_callbacks(execute=True):
        services.document_supprimer(document=document, par=evaluateur)

    assert not chemin.exists()
    assert not Document.objects.exists()
    assert HistoriqueFiche.objects.filter(action="Retrait d'un document").exists()


def test_document_modifier_changes_the_metadata_and_historises_it(evaluateur):
    document = ajouter(evaluateur, pdf_minimal(), "rcp.pdf", titre="RCP")
    services.document_modifier(document=document, titre="RCP — version 2", public=False, par=evaluateur)
    document.refresh_from_db()
    assert (document.titre, document.public) == ("RCP — version 2", False)
    historique = HistoriqueFiche.objects.get(action="Modification d'un document")
    assert historique.avant == {"titre": "RCP", "public": True}


def test_uploaded_files_are_not_served_from_media_url(client, evaluateur, settings):
    document = ajouter(evaluateur, pdf_minimal(), "rcp.pdf")
    reponse = client.get(f"{settings.MEDIA_URL}{document.fichier.name}")
    assert reponse.status_code == 404
    assert b"%PDF" not in reponse.content
