"""The world the access-control matrix and the API fuzzing act on: two sides, A (the logged-in users' own objects,
a published fiche) and B (another prescriber, another PUI, another laboratory; a fiche not published).

`monde_partage` builds it once per test module (and per xdist worker) inside a transaction rolled back at the end;
each test runs in a savepoint of it (pytest-django's own atomic block), so what one test writes is gone for the
next while the world stays.
"""

import contextlib
import dataclasses
import datetime
import secrets

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from demandes.enums import DestinataireComplement, PieceLaboratoire
from demandes.models import Complement, PieceJointe
from tests.factories import (
    AccesFactory,
    CritereFactory,
    DemandeFactory,
    DocumentFactory,
    IndicationFactory,
    LaboratoireFactory,
    PUIFactory,
    PUTFactory,
    RapportFactory,
    SpecialiteFactory,
    UtilisateurFactory,
)
from tests.factories.gestion import CPCFactory, DeclarationFactory, DemandeProlongationFactory, SpecialiteAmmFactory
from tests.factories.referentiel import pdf_minimal


@dataclasses.dataclass
class Monde:
    utilisateurs: dict  # role -> the logged-in user of that role (side A)
    demandes: dict  # "a" / "b" -> state -> request
    informations: dict  # "a" / "b" -> the ANSM's information request to that side's laboratory (R16)
    referentiel: dict  # "a" / "b" -> kind -> object, plus "laboratoire" and "secrets"
    uid_reinitialisation: str


def _fichier(nom: str):
    return factory.django.FileField(filename=nom, data=pdf_minimal(nom))


def _cote_referentiel(cote: str, *, publiee: bool) -> dict:
    """One laboratory's product with everything the back-office and the laboratory space act on. Names carry a
    token of this build, so that a page showing another build's leftovers could not pass for this one's."""
    jeton = secrets.token_hex(3).upper()
    labo = LaboratoireFactory(nom=f"Laboratoire matrice {cote} {jeton}")
    specialite = SpecialiteFactory(nom=f"MATRICE {cote} {jeton} 10 mg, comprimé", titulaire=labo, publiee=publiee)
    acces = AccesFactory(specialite=specialite, riph=True)
    indication = IndicationFactory(acces=acces)
    CritereFactory.create_batch(2, indication=indication)
    cpc = CPCFactory(specialite=SpecialiteAmmFactory(nom=f"MATRICE CPC {cote} {jeton} 5 mg, gélule", titulaire=labo))
    objets = {
        "specialite": specialite,
        "acces": acces,
        "indication": indication,
        "put": PUTFactory(acces=acces, proposition=True, fichier=_fichier("put.pdf"), type_mime="application/pdf"),
        "rapport": RapportFactory(acces=acces, fichier=_fichier("rapport.pdf"), type_mime="application/pdf"),
        "document": DocumentFactory(specialite=specialite),
        "cpc": cpc,
        "prolongation": DemandeProlongationFactory(acces=acces, laboratoire=labo),
        "declaration": DeclarationFactory(specialite=specialite, laboratoire=labo),
    }
    # What each object's pages show and a refusal must not: its spécialité's name.
    noms = {nom: specialite.nom for nom in objets} | {"cpc": cpc.specialite.nom}
    return {**objets, "laboratoire": labo, "secrets": noms}


def _cote_demandes(indication) -> tuple[dict, dict]:
    """A prescriber, their PUI's pharmacist and their requests in each state the matrix needs, each with a file."""
    prescripteur = UtilisateurFactory(prescripteur=True)
    pui = PUIFactory(etablissement=prescripteur.etablissement)
    pharmacien = UtilisateurFactory(pharmacien=True, pui=pui, etablissement=pui.etablissement)
    commun = {"prescripteur": prescripteur, "pui": pui, "indication": indication}
    demandes = {
        "brouillon": DemandeFactory(**commun),
        "transmise": DemandeFactory(transmise=True, **commun),
        "en_evaluation": DemandeFactory(en_evaluation=True, **commun),
        "octroyee": DemandeFactory(octroyee=True, **commun),
    }
    for d in demandes.values():
        PieceJointe.objects.create(
            demande=d,
            fichier=SimpleUploadedFile("piece.pdf", pdf_minimal()),
            nom="piece.pdf",
            type_mime="application/pdf",
            taille=100,
            empreinte="0" * 64,
            deposee_par=prescripteur,
        )
    return demandes, {"prescripteur": prescripteur, "pharmacien": pharmacien}


def construire_monde() -> Monde:
    referentiel = {"a": _cote_referentiel("A", publiee=True), "b": _cote_referentiel("B", publiee=False)}
    demandes_a, parties_a = _cote_demandes(referentiel["a"]["indication"])
    demandes_b, _ = _cote_demandes(referentiel["b"]["indication"])
    utilisateurs = {
        **parties_a,
        "evaluateur": UtilisateurFactory(evaluateur=True),
        "administrateur": UtilisateurFactory(administrateur=True),
        "laboratoire": UtilisateurFactory(laboratoire_role=True, laboratoire=referentiel["a"]["laboratoire"]),
    }
    for u in (utilisateurs["evaluateur"], utilisateurs["administrateur"]):
        TOTPDevice.objects.create(user=u, name="Application de test", confirmed=True)
    demandes = {"a": demandes_a, "b": demandes_b}
    informations = {
        cote: Complement.objects.create(
            demande=demandes[cote]["en_evaluation"],
            destinataire=DestinataireComplement.LABORATOIRE,
            laboratoire=referentiel[cote]["laboratoire"],
            question=f"Brochure investigateur du médicament, côté {cote.upper()} (R16).",
            pieces_demandees=[PieceLaboratoire.DONNEES_PRODUIT],
            date_limite=datetime.date.today() + datetime.timedelta(days=15),
            demande_par=utilisateurs["evaluateur"],
        )
        for cote in ("a", "b")
    }
    return Monde(
        utilisateurs=utilisateurs,
        demandes=demandes,
        informations=informations,
        referentiel=referentiel,
        uid_reinitialisation=urlsafe_base64_encode(force_bytes(parties_a["prescripteur"].pk)),
    )


@contextlib.contextmanager
def monde_partage(django_db_blocker, dossier_media):
    """The world, in a transaction that outlives the tests of a module and is rolled back after them.

    The module's tests must run together on one worker (`make test` uses xdist's --dist loadfile): a transactional
    test of another file flushing the database in between would empty the world under them."""
    reglages = override_settings(
        MEDIA_ROOT=str(dossier_media),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with reglages, django_db_blocker.unblock():
        atomique = transaction.atomic()
        atomique.__enter__()
        try:
            yield construire_monde()
        finally:
            transaction.set_rollback(True)
            atomique.__exit__(None, None, None)
