"""What a document uploaded to a fiche may be: checked by its content and its size, never by its name.

An extension or a browser-declared content type is whatever the uploader says; the first bytes are what a reader's
software will actually open. No libmagic: the handful of formats we accept have short, documented signatures.
"""

import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.utils.text import slugify

from .exceptions import ReferentielError

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg", ODT: "odt", DOCX: "docx"}
FORMATS_ACCEPTES = "PDF, PNG, JPEG, ODT ou DOCX"

_SIGNATURE_PNG = b"\x89PNG\r\n\x1a\n"
_SIGNATURE_JPEG = b"\xff\xd8\xff"
_SIGNATURE_ZIP = b"PK\x03\x04"
# The manifest entries we read from an archive are a few hundred bytes; a bigger one is not a real document.
_TAILLE_MAX_MANIFESTE = 1024 * 1024
_TYPE_PRINCIPAL_DOCX = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


@dataclass(frozen=True)
class FichierVerifie:
    type_mime: str
    taille: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.type_mime]


def taille_lisible(octets: int) -> str:
    """A size as French readers write it: « 1,5 Mo », « 820 ko »."""
    if octets >= 1024 * 1024:
        return f"{octets / (1024 * 1024):.1f} Mo".replace(".", ",").replace(",0 Mo", " Mo")
    if octets >= 1024:
        return f"{octets // 1024} ko"
    return f"{octets} octets"


def _type_archive(fichier) -> str | None:
    """ODT or DOCX from the archive's own declaration of what it holds, else None."""
    try:
        with zipfile.ZipFile(fichier) as archive:
            noms = set(archive.namelist())
            if "mimetype" in noms and archive.getinfo("mimetype").file_size <= _TAILLE_MAX_MANIFESTE:
                if archive.read("mimetype").strip() == ODT.encode():
                    return ODT
            if "[Content_Types].xml" in noms and "word/document.xml" in noms:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size <= _TAILLE_MAX_MANIFESTE and _TYPE_PRINCIPAL_DOCX in archive.read(info):
                    return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError, EOFError):
        return None
    return None


def detecter_type(fichier) -> str | None:
    """The MIME type read from the file's content, or None when it is none of the accepted formats."""
    fichier.seek(0)
    entete = fichier.read(8)
    fichier.seek(0)
    if entete.startswith(b"%PDF-"):
        return PDF
    if entete.startswith(_SIGNATURE_PNG):
        return PNG
    if entete.startswith(_SIGNATURE_JPEG):
        return JPEG
    if entete.startswith(_SIGNATURE_ZIP):
        try:
            return _type_archive(fichier)
        finally:
            fichier.seek(0)
    return None


def _taille(fichier) -> int:
    taille = getattr(fichier, "size", None)
    if taille is None:
        position = fichier.tell()
        fichier.seek(0, io.SEEK_END)
        taille = fichier.tell()
        fichier.seek(position)
    return taille


def verifier_fichier(fichier) -> FichierVerifie:
    """Accept a PDF, PNG, JPEG, ODT or DOCX no bigger than DOCUMENT_MAX_SIZE; raise ReferentielError otherwise."""
    taille = _taille(fichier)
    if taille == 0:
        raise ReferentielError("Le fichier est vide.", champ="fichier")
    maximum = settings.DOCUMENT_MAX_SIZE
    if taille > maximum:
        raise ReferentielError(
            f"Le fichier pèse {taille_lisible(taille)} : la taille maximale est de {taille_lisible(maximum)}.",
            champ="fichier",
        )
    type_mime = detecter_type(fichier)
    if type_mime is None:
        nom = getattr(fichier, "name", "") or "Le fichier"
        raise ReferentielError(
            f"« {nom} » n'est pas un document accepté : son contenu doit être au format {FORMATS_ACCEPTES} "
            "(l'extension du nom ne suffit pas).",
            champ="fichier",
        )
    return FichierVerifie(type_mime=type_mime, taille=taille)


def nom_de_fichier(titre: str, verifie: FichierVerifie) -> str:
    """A storage name from the title and the detected type: the uploader's file name is never trusted."""
    base = slugify(titre)[:80].strip("-") or "document"
    return f"{base}.{verifie.extension}"


def fichier_depuis_octets(contenu: bytes, nom: str) -> File:
    """Wrap bytes (a generated PDF, a test file) as a Django File the document service accepts."""
    return File(io.BytesIO(contenu), name=nom)
