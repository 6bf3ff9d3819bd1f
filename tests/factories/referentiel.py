import datetime
import io

import factory
from django.utils.text import slugify

from referentiel.enums import (
    EtapeCPC,
    EtatAcces,
    OrigineSignalement,
    PhaseAAP,
    StatutAMM,
    StatutRapport,
    TypeAcces,
    TypeDocument,
    TypePUT,
)
from referentiel.models import (
    PUT,
    AccesDerogatoire,
    Composition,
    ConditionPrescription,
    CritereOctroi,
    Document,
    Indication,
    Laboratoire,
    ProlongationEngagementAAP,
    RapportPeriodique,
    Specialite,
    Substance,
)
from referentiel.services import specialites_indexer


def pdf_minimal(texte: str = "Document de test") -> bytes:
    """A small, real PDF (one page with this text), for document uploads and downloads."""
    from reportlab.pdfgen import canvas

    tampon = io.BytesIO()
    page = canvas.Canvas(tampon)
    page.drawString(72, 720, texte)
    page.showPage()
    page.save()
    return tampon.getvalue()


def indexer_specialites(*specialites: Specialite) -> None:
    """Rebuild the search documents (of these spécialités, or all) once the test data exists."""
    ids = [s.pk for s in specialites] or list(Specialite.objects.values_list("id", flat=True))
    specialites_indexer(ids=ids)


class LaboratoireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Laboratoire
        django_get_or_create = ("nom",)

    nom = factory.Sequence(lambda n: f"Laboratoire {n}")
    est_titulaire = True
    est_exploitant = True


class SubstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Substance
        django_get_or_create = ("dci",)

    dci = factory.Sequence(lambda n: f"substance{n}mab")


class SpecialiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialite
        skip_postgeneration_save = True

    nom = factory.Sequence(lambda n: f"SPECIALITE {n} 10 mg, comprimé")
    slug = factory.LazyAttribute(lambda o: slugify(o.nom)[:110])
    forme_pharmaceutique = "comprimé"
    voies_administration = "orale"
    titulaire = factory.SubFactory(LaboratoireFactory)
    statut_amm = StatutAMM.AUCUNE

    class Params:
        non_publiee = factory.Trait(publiee=False)
        hospitaliere = factory.Trait(
            reserve_hospitalier=True, restriction_prescripteurs="Prescription réservée aux hématologues"
        )
        retrocedee = factory.Trait(reserve_hospitalier=False, retrocession=True)

    @factory.post_generation
    def dci(obj, create, extracted, **kwargs):
        """SpecialiteFactory(dci="ibrutinib") adds that substance to the composition."""
        if create and extracted:
            for dci in [extracted] if isinstance(extracted, str) else extracted:
                Composition.objects.create(
                    specialite=obj, substance=SubstanceFactory(dci=dci), dosage=kwargs.get("dosage", "140 mg")
                )


class CompositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Composition

    specialite = factory.SubFactory(SpecialiteFactory)
    substance = factory.SubFactory(SubstanceFactory)
    dosage = "10 mg"


class ConditionPrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConditionPrescription

    specialite = factory.SubFactory(SpecialiteFactory)
    texte = factory.Sequence(lambda n: f"prescription hospitalière n° {n}")


class AccesFactory(factory.django.DjangoModelFactory):
    """An AAC en cours by default; traits give each status of the référentiel."""

    class Meta:
        model = AccesDerogatoire

    specialite = factory.SubFactory(SpecialiteFactory)
    type_acces = TypeAcces.AAC
    etat = EtatAcces.EN_COURS
    date_debut = datetime.date(2024, 1, 15)

    class Params:
        aap = factory.Trait(
            type_acces=TypeAcces.AAP,
            phase_aap=PhaseAAP.PRE_AMM,
            date_decision_has=datetime.date(2024, 3, 7),
            date_fin=datetime.date(2025, 3, 6),
        )
        cpc = factory.Trait(
            type_acces=TypeAcces.CPC,
            etape_cpc=EtapeCPC.PUBLIE,
            origine_signalement=OrigineSignalement.INCA,
            date_fin=datetime.date(2027, 1, 14),
        )
        cpc_projet = factory.Trait(
            type_acces=TypeAcces.CPC,
            etape_cpc=EtapeCPC.TRANSMIS_TITULAIRE,
            origine_signalement=OrigineSignalement.CNP,
        )
        atu_historique = factory.Trait(
            type_acces=TypeAcces.ATUN,
            etat=EtatAcces.TERMINE,
            date_debut=datetime.date(2019, 5, 2),
            date_fin=datetime.date(2021, 6, 30),
        )
        termine = factory.Trait(etat=EtatAcces.TERMINE, date_fin=datetime.date(2024, 12, 31))
        suspendu = factory.Trait(etat=EtatAcces.SUSPENDU)
        riph = factory.Trait(
            riph_commerciale=True,
            engagement_aap=True,
            date_premiere_aac=datetime.date(2024, 1, 15),
            date_limite_depot_aap=datetime.date(2025, 1, 15),
        )
        cessation = factory.Trait(date_cessation=datetime.date(2025, 2, 1))


class ProlongationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProlongationEngagementAAP

    acces = factory.SubFactory(AccesFactory, riph=True)
    duree_mois = 6
    motif = "Essai de phase III en cours d'inclusion."


class IndicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indication

    acces = factory.SubFactory(AccesFactory)
    libelle = factory.Sequence(lambda n: f"Traitement de la maladie rare n° {n} en situation d'impasse thérapeutique")
    ordre = factory.Sequence(lambda n: n)


class CritereFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CritereOctroi

    indication = factory.SubFactory(IndicationFactory)
    libelle = factory.Sequence(lambda n: f"Le patient remplit la condition n° {n}")
    ordre = factory.Sequence(lambda n: n)


class PUTFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PUT

    acces = factory.SubFactory(AccesFactory)
    type_put = TypePUT.PUT_SP
    version = "1"
    date_validation = datetime.date(2024, 2, 1)
    crpv = "CRPV de Lyon"
    periodicite_rapports_mois = 6

    class Params:
        rd = factory.Trait(type_put=TypePUT.PUT_RD)
        recueil = factory.Trait(recueil_nominatif=True)
        proposition = factory.Trait(est_proposition=True, date_validation=None)


class RapportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RapportPeriodique

    acces = factory.SubFactory(AccesFactory)
    periode_debut = datetime.date(2024, 1, 15)
    periode_fin = datetime.date(2024, 7, 14)
    date_echeance = datetime.date(2024, 9, 14)
    statut = StatutRapport.ATTENDU

    class Params:
        publie = factory.Trait(
            statut=StatutRapport.VALIDE,
            date_reception=datetime.date(2024, 9, 1),
            date_validation=datetime.date(2024, 10, 1),
            resume=factory.Sequence(lambda n: f"Résumé n° {n} : aucun signal de sécurité nouveau."),
            resume_publie_le=datetime.date(2024, 10, 15),
        )


class DocumentFactory(factory.django.DjangoModelFactory):
    """A public PDF document; set settings.MEDIA_ROOT to a temporary directory first."""

    class Meta:
        model = Document

    specialite = factory.SubFactory(SpecialiteFactory)
    type_document = TypeDocument.RCP
    titre = factory.Sequence(lambda n: f"Résumé des caractéristiques du produit n° {n}")
    fichier = factory.django.FileField(filename="rcp.pdf", data=factory.LazyFunction(pdf_minimal))
    type_mime = "application/pdf"
    taille = factory.LazyAttribute(lambda o: o.fichier.size if o.fichier else 0)
    date_document = datetime.date(2024, 2, 1)
    version = "1"
