import factory

from comptes.demo import avec_cle_luhn
from comptes.enums import Role, Territoire
from comptes.models import PUI, Etablissement, Utilisateur

MOT_DE_PASSE = "motdepasse-de-test-42"


class EtablissementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Etablissement
        django_get_or_create = ("finess",)

    finess = factory.Sequence(lambda n: avec_cle_luhn(f"75{n:06d}"))
    nom = factory.Sequence(lambda n: f"Centre hospitalier n° {n}")
    ville = "Paris"
    territoire = Territoire.METROPOLE


class PUIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PUI

    etablissement = factory.SubFactory(EtablissementFactory)
    nom = factory.Sequence(lambda n: f"PUI {n}")
    email = factory.Sequence(lambda n: f"pui{n}@hopital.example")


class UtilisateurFactory(factory.django.DjangoModelFactory):
    """A user of one role; the traits set what that role requires (RPPS, établissement, PUI, laboratoire)."""

    class Meta:
        model = Utilisateur
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"utilisateur{n}@exemple.fr")
    prenom = "Camille"
    nom = factory.Sequence(lambda n: f"Durand{n}")
    role = Role.ADMINISTRATEUR
    password = factory.PostGenerationMethodCall("set_password", MOT_DE_PASSE)

    class Params:
        prescripteur = factory.Trait(
            role=Role.PRESCRIPTEUR,
            rpps=factory.Sequence(lambda n: avec_cle_luhn(f"1{n:09d}")),
            etablissement=factory.SubFactory(EtablissementFactory),
        )
        pharmacien = factory.Trait(
            role=Role.PHARMACIEN,
            rpps=factory.Sequence(lambda n: avec_cle_luhn(f"2{n:09d}")),
            pui=factory.SubFactory(PUIFactory),
            etablissement=factory.SelfAttribute("pui.etablissement"),
        )
        evaluateur = factory.Trait(role=Role.EVALUATEUR)
        laboratoire_role = factory.Trait(
            role=Role.LABORATOIRE,
            laboratoire=factory.SubFactory("tests.factories.referentiel.LaboratoireFactory"),
        )
        administrateur = factory.Trait(role=Role.ADMINISTRATEUR, is_staff=True, is_superuser=True)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()
