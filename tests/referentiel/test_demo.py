"""The demonstration référentiel `make run` loads: every type and state, real DCI, idempotent, removable."""

import io
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from pypdf import PdfReader

from referentiel.demo import PRODUITS
from referentiel.enums import EtatAcces, PhaseAAP, StatutRapport, TypeAcces, TypeDocument, TypePUT
from referentiel.models import (
    PUT,
    AccesDerogatoire,
    CritereOctroi,
    Document,
    HistoriqueFiche,
    Indication,
    RapportPeriodique,
    Specialite,
)
from referentiel.selectors import demonstration_chargee

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def charger() -> str:
    sortie = io.StringIO()
    call_command("charger_demo", stdout=sortie)
    return sortie.getvalue()


def test_the_demo_covers_every_access_type_and_state_with_criteria_puts_documents_and_reports(
    django_capture_on_commit_callbacks, media
):
    assert not demonstration_chargee()
    with django_capture_on_commit_callbacks(execute=True):
        sortie = charger()

    fiches = Specialite.objects.filter(demonstration=True)
    assert fiches.count() == len(PRODUITS) >= 60
    assert f"{len(PRODUITS)} fiches créées" in sortie
    # The page banner reads this flag; loading forgot the cached "no demo" answer.
    assert demonstration_chargee()

    acces = AccesDerogatoire.objects.filter(specialite__demonstration=True)
    couverts = set(acces.values_list("type_acces", "etat"))
    for type_acces in (TypeAcces.AAC, TypeAcces.AAP, TypeAcces.CPC):
        for etat in EtatAcces.values:
            assert (type_acces, etat) in couverts, (type_acces, etat)
    for historique in (TypeAcces.ATUN, TypeAcces.ATUC, TypeAcces.RTU):
        assert (historique, EtatAcces.TERMINE) in couverts
    assert set(acces.filter(type_acces=TypeAcces.AAP).values_list("phase_aap", flat=True)) == {
        PhaseAAP.PRE_AMM,
        PhaseAAP.POST_AMM,
    }
    # Historical statuses and the type that replaced them (ATUn → AAC, ATUc → AAP, RTU → CPC).
    successions = set(acces.filter(precedent__isnull=False).values_list("precedent__type_acces", "type_acces"))
    assert successions == {
        (TypeAcces.ATUN, TypeAcces.AAC),
        (TypeAcces.ATUC, TypeAcces.AAP),
        (TypeAcces.RTU, TypeAcces.CPC),
    }

    # Real DCI; AAC indications carry 2 to 5 attestable criteria; some rare diseases.
    dci = set(fiches.values_list("compositions__substance__dci", flat=True))
    assert {"ibrutinib", "lorlatinib", "sotorasib", "tafamidis", "nusinersen", "risdiplam", "cannabidiol"} <= dci
    assert {"teclistamab", "elranatamab", "selpercatinib"} <= dci
    for indication in Indication.objects.filter(acces__type_acces=TypeAcces.AAC).prefetch_related("criteres"):
        assert 2 <= indication.criteres.count() <= 5, indication.libelle
    assert CritereOctroi.objects.filter(indication__acces__type_acces=TypeAcces.AAC).count() >= 60
    assert Indication.objects.filter(maladie_rare=True).count() >= 10
    assert fiches.filter(mitm=True).exists() and fiches.filter(mitm=False).exists()
    assert fiches.exclude(aire_therapeutique="").count() == fiches.count()
    assert fiches.exclude(titulaire=None).count() == fiches.count()

    # R24: an AMM and a cessation date; R23: AAP commitments with their deadlines; R25: a narrowed AAC.
    cessations = acces.filter(date_cessation__isnull=False)
    assert cessations.filter(etat=EtatAcces.EN_COURS).exists() and cessations.filter(etat=EtatAcces.TERMINE).exists()
    assert acces.filter(engagement_aap=True, date_limite_depot_aap__isnull=False).count() >= 5
    assert acces.filter(prolongations__isnull=False).exists()
    assert Indication.objects.exclude(restriction_aap="").exists()

    # R31, R33, R34: PUT-SP with and without nominative data collection, PUT-RD for AAP, CRPV, periodicity.
    puts = PUT.objects.filter(acces__specialite__demonstration=True)
    assert set(puts.values_list("type_put", "recueil_nominatif")) >= {
        (TypePUT.PUT_SP, True),
        (TypePUT.PUT_SP, False),
        (TypePUT.PUT_RD, True),
    }
    assert not puts.filter(acces__type_acces=TypeAcces.AAP).exclude(type_put=TypePUT.PUT_RD).exists()
    assert not puts.filter(crpv="").exists()
    assert set(puts.exclude(periodicite_rapports_mois=None).values_list("periodicite_rapports_mois", flat=True)) > {6}

    # R34, R35: reports in every status; validated ones have a published résumé.
    rapports = RapportPeriodique.objects.filter(acces__specialite__demonstration=True)
    assert set(rapports.values_list("statut", flat=True)) == set(StatutRapport.values)
    assert not rapports.filter(statut=StatutRapport.VALIDE, resume_publie_le=None).exists()
    assert not rapports.filter(statut=StatutRapport.VALIDE, resume="").exists()

    # Small generated PDFs that say they are demonstration documents.
    documents = Document.objects.filter(specialite__demonstration=True)
    assert set(documents.values_list("type_document", flat=True)) >= {
        TypeDocument.RCP,
        TypeDocument.PUT,
        TypeDocument.RESUME_RAPPORT,
    }
    for document in documents.order_by("?")[:5]:
        chemin = Path(document.fichier.path)
        assert chemin.is_relative_to(media)
        assert 500 < chemin.stat().st_size < 10_000
        texte = PdfReader(chemin).pages[0].extract_text()
        assert "Document de démonstration, sans valeur réglementaire" in texte
        assert document.titre[:40] in texte

    # Written through the services: every fiche has its history and its search document.
    assert HistoriqueFiche.objects.filter(action="Création de la fiche").count() == len(PRODUITS)
    assert not fiches.filter(document_recherche=None).exists()

    # A second run changes nothing.
    avant = (
        Specialite.objects.count(),
        AccesDerogatoire.objects.count(),
        HistoriqueFiche.objects.count(),
        Document.objects.count(),
        RapportPeriodique.objects.count(),
    )
    mis_a_jour = dict(fiches.values_list("pk", "mis_a_jour_le"))
    assert "déjà chargé" in charger()
    assert (
        Specialite.objects.count(),
        AccesDerogatoire.objects.count(),
        HistoriqueFiche.objects.count(),
        Document.objects.count(),
        RapportPeriodique.objects.count(),
    ) == avant
    assert dict(fiches.values_list("pk", "mis_a_jour_le")) == mis_a_jour

    # Removing it takes the fiches, their files and the flag away.
    fichiers = [Path(d.fichier.path) for d in documents]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("charger_demo", "--supprimer", stdout=io.StringIO())
    assert not Specialite.objects.filter(demonstration=True).exists()
    assert not any(f.exists() for f in fichiers)
    cache.clear()
    assert not demonstration_chargee()
