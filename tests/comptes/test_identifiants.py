import pytest
from django.core.exceptions import ValidationError

from comptes.models import Etablissement, Utilisateur
from comptes.validators import valider_finess, valider_rpps
from tests.factories import EtablissementFactory


@pytest.mark.parametrize("rpps", ["10003650719", "10101561016", "10000000009"])
def test_rpps_valide_accepte_cle_luhn_correcte(rpps):
    valider_rpps(rpps)


@pytest.mark.parametrize(
    ("rpps", "message"),
    [
        ("10003650718", "clé de contrôle"),
        ("1000365071", "exactement 11 chiffres"),
        ("1000365071A", "exactement 11 chiffres"),
        ("", "exactement 11 chiffres"),
    ],
)
def test_rpps_invalide_message_clair_en_francais(rpps, message):
    with pytest.raises(ValidationError) as erreur:
        valider_rpps(rpps)
    assert message in erreur.value.messages[0]


@pytest.mark.parametrize("finess", ["750712184", "130783293", "2A0000014", "2B0001234"])
def test_finess_valide_y_compris_corse_format_seul(finess):
    valider_finess(finess)


@pytest.mark.parametrize(
    ("finess", "message"),
    [
        ("750712185", "clé de contrôle"),
        ("75071218", "9 caractères"),
        ("2C0000014", "9 caractères"),
        ("ABC123456", "9 caractères"),
    ],
)
def test_finess_invalide_message_clair(finess, message):
    with pytest.raises(ValidationError) as erreur:
        valider_finess(finess)
    assert message in erreur.value.messages[0]


@pytest.mark.django_db
def test_un_etablissement_au_finess_faux_est_refuse_a_la_validation_du_modele():
    etablissement = Etablissement(finess="750712185", nom="Hôpital test")
    with pytest.raises(ValidationError) as erreur:
        etablissement.full_clean()
    assert "finess" in erreur.value.message_dict


@pytest.mark.django_db
def test_un_prescripteur_au_rpps_faux_est_refuse():
    utilisateur = Utilisateur(
        email="dr@exemple.fr", role="prescripteur", rpps="10003650718", etablissement=EtablissementFactory()
    )
    utilisateur.set_password("x")
    with pytest.raises(ValidationError) as erreur:
        utilisateur.full_clean()
    assert "clé de contrôle" in erreur.value.message_dict["rpps"][0]
