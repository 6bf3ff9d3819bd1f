import datetime

import factory
from django.utils.text import slugify

from referentiel.enums import EtatAcces, StatutAMM, TypeAcces
from referentiel.models import AccesDerogatoire, CritereOctroi, Indication, Laboratoire, Specialite, Substance


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

    nom = factory.Sequence(lambda n: f"SPECIALITE {n} 10 mg, comprimé")
    slug = factory.LazyAttribute(lambda o: slugify(o.nom)[:110])
    forme_pharmaceutique = "comprimé"
    voies_administration = "orale"
    titulaire = factory.SubFactory(LaboratoireFactory)
    statut_amm = StatutAMM.AUCUNE


class AccesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccesDerogatoire

    specialite = factory.SubFactory(SpecialiteFactory)
    type_acces = TypeAcces.AAC
    etat = EtatAcces.EN_COURS
    date_debut = datetime.date(2024, 1, 15)


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
