import pytest
from django.db import IntegrityError

from comptes.enums import Role, Territoire, territoire_competence_ansm
from comptes.models import Utilisateur
from tests.factories import EtablissementFactory, UtilisateurFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("trait", "role", "predicat"),
    [
        ("prescripteur", Role.PRESCRIPTEUR, "est_prescripteur"),
        ("pharmacien", Role.PHARMACIEN, "est_pharmacien"),
        ("evaluateur", Role.EVALUATEUR, "est_evaluateur"),
        ("laboratoire_role", Role.LABORATOIRE, "est_laboratoire"),
        ("administrateur", Role.ADMINISTRATEUR, "est_administrateur"),
    ],
)
def test_chaque_role_est_attribue_et_reconnu(trait, role, predicat):
    utilisateur = UtilisateurFactory(**{trait: True})
    utilisateur.refresh_from_db()
    assert utilisateur.role == role
    assert getattr(utilisateur, predicat) is True
    autres = {"est_prescripteur", "est_pharmacien", "est_evaluateur", "est_laboratoire", "est_administrateur"} - {
        predicat
    }
    assert not any(getattr(utilisateur, p) for p in autres)


def test_seuls_evaluateur_et_administrateur_sont_personnel_ansm():
    assert UtilisateurFactory(evaluateur=True).est_ansm
    assert UtilisateurFactory(administrateur=True).est_ansm
    assert not UtilisateurFactory(prescripteur=True).est_ansm
    assert not UtilisateurFactory(pharmacien=True).est_ansm


def test_un_pharmacien_sans_pui_est_refuse_par_la_base():
    with pytest.raises(IntegrityError, match="utilisateur_pharmacien_pui"):
        Utilisateur.objects.create_user(
            email="ph@exemple.fr",
            password="x",
            role=Role.PHARMACIEN,
            rpps="10003650719",
            etablissement=EtablissementFactory(),
        )


def test_un_prescripteur_sans_rpps_est_refuse_par_la_base():
    with pytest.raises(IntegrityError, match="utilisateur_rpps_obligatoire_professionnel"):
        Utilisateur.objects.create_user(
            email="dr@exemple.fr", password="x", role=Role.PRESCRIPTEUR, etablissement=EtablissementFactory()
        )


def test_un_compte_laboratoire_doit_etre_rattache_a_son_laboratoire():
    with pytest.raises(IntegrityError, match="utilisateur_laboratoire_rattache"):
        Utilisateur.objects.create_user(email="labo@exemple.fr", password="x", role=Role.LABORATOIRE)


def test_connexion_par_email_insensible_a_la_casse(client):
    UtilisateurFactory(email="claire.martin@chu.fr", evaluateur=True)
    client.post("/comptes/connexion/", {"username": "Claire.Martin@CHU.fr", "password": "motdepasse-de-test-42"})
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize(
    ("territoire", "competent"),
    [
        (Territoire.METROPOLE, True),
        (Territoire.MAYOTTE, True),
        (Territoire.SAINT_BARTHELEMY, True),
        (Territoire.WALLIS_ET_FUTUNA, True),
        (Territoire.TAAF, False),
        (Territoire.NOUVELLE_CALEDONIE, False),
        (Territoire.POLYNESIE_FRANCAISE, False),
    ],
)
def test_r9_competence_territoriale_de_l_ansm(territoire, competent):
    assert territoire_competence_ansm(territoire) is competent
