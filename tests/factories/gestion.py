"""Factories of the back-office and laboratory space: signalements (R39), CPC in each step of their life (R38-R40),
laboratories' requests (R23, R29) and laboratory accounts attached to a product's holder."""

import datetime

import factory
from django.utils import timezone

from referentiel.enums import (
    EtapeCPC,
    OrigineSignalement,
    StatutAMM,
    StatutDeclarationTitulaire,
    StatutDemandeProlongation,
)
from referentiel.models import DeclarationChangementTitulaire, DemandeProlongation, Signalement

from .comptes import UtilisateurFactory
from .referentiel import AccesFactory, LaboratoireFactory, SpecialiteFactory


class SpecialiteAmmFactory(SpecialiteFactory):
    """A spécialité with an AMM in France: what a CPC frames (R38)."""

    statut_amm = StatutAMM.AUTORISEE
    date_amm = datetime.date(2015, 6, 1)
    exploitant = factory.SubFactory(LaboratoireFactory)


class CPCFactory(AccesFactory):
    """A CPC at a step of its life; by default a draft from an INCa signalement."""

    specialite = factory.SubFactory(SpecialiteAmmFactory)
    type_acces = "CPC"
    etape_cpc = EtapeCPC.BROUILLON
    origine_signalement = OrigineSignalement.INCA
    date_debut = None

    class Params:
        transmis = factory.Trait(
            etape_cpc=EtapeCPC.TRANSMIS_TITULAIRE,
            date_entree_vigueur_prevue=factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(30)),
        )
        publie = factory.Trait(
            etape_cpc=EtapeCPC.PUBLIE,
            date_debut=datetime.date(2023, 9, 1),
            date_fin=datetime.date(2026, 9, 1),
        )


class SignalementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signalement

    origine = OrigineSignalement.CENTRE_REFERENCE
    organisation = factory.Sequence(lambda n: f"Centre de référence maladies rares n° {n}")
    situation = "Usage hors AMM fréquent chez l'enfant, données publiées favorables."
    specialite = factory.SubFactory(SpecialiteAmmFactory)


class LaboratoireUtilisateurFactory(UtilisateurFactory):
    """A laboratory account; pass `laboratoire=` to attach it to a product's holder."""

    laboratoire_role = True


class DemandeProlongationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandeProlongation

    acces = factory.SubFactory(AccesFactory, riph=True)
    laboratoire = factory.SelfAttribute("acces.specialite.titulaire")
    duree_mois = 4
    motif = "Inclusions de l'essai de phase III plus lentes que prévu."
    statut = StatutDemandeProlongation.DEPOSEE
    demandee_par = factory.SubFactory(
        LaboratoireUtilisateurFactory, laboratoire=factory.SelfAttribute("..laboratoire")
    )


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeclarationChangementTitulaire

    specialite = factory.SubFactory(SpecialiteFactory)
    laboratoire = factory.SelfAttribute("specialite.titulaire")
    nouveau_titulaire = factory.Sequence(lambda n: f"Nouveau titulaire {n}")
    date_effet = datetime.date(2026, 1, 1)
    statut = StatutDeclarationTitulaire.DEPOSEE
    declaree_par = factory.SubFactory(
        LaboratoireUtilisateurFactory, laboratoire=factory.SelfAttribute("..laboratoire")
    )
