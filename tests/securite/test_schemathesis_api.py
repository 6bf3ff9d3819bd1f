"""The API fuzzed from its own OpenAPI schema (issue 7): every operation, as each role, with inputs schemathesis
draws from the schema, valid and invalid. No answer is a 5xx, every answer matches the schema (status code, content
type, headers, body), invalid input is refused with a 4xx and a message.

The schema is the one /api/schema/ serves (drf-spectacular), generated in process. Requests go through Django's
whole WSGI stack (middleware, session, CSRF, second factor, throttling) with the role's session cookie and CSRF
token. Path parameters point, more often than not, at real objects of the shared world (tests/securite/
matrice_monde.py), so the services run rather than answering 404. Each example runs in a savepoint rolled back
after it: the world stays the same for every example, and the run is derandomized, hence reproducible.
"""

import json
import os
import zlib

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase
from schemathesis import DataGenerationMethod, GenerationConfig
from schemathesis.specs.openapi.checks import ignored_auth

from config.wsgi import application
from tests.conftest import connecter
from tests.securite.matrice import ROLES
from tests.securite.matrice_monde import monde_partage

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Per role and per operation: the whole run stays around a minute; SCHEMATHESIS_EXEMPLES=200 digs deeper.
EXEMPLES_PAR_OPERATION = int(os.environ.get("SCHEMATHESIS_EXEMPLES", "12"))
SCHEMA = schemathesis.from_dict(
    SchemaGenerator().get_schema(request=None, public=True),
    app=application,
    data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    # The session cookie is the role's real one (below), not a drawn value.
    generation_config=GenerationConfig(with_security_parameters=False),
)
OPERATIONS = [r.ok() for r in SCHEMA.get_all_operations()]
CAS = [(op.method.upper(), op.path, role) for op in OPERATIONS for role in ROLES]
CSRF = "j3Xp0q9LmN4sT7vW2yZ5bC8dF1gH6kR0"  # a 32-character CSRF secret, sent as cookie and header
# Left out: `ignored_auth` expects a 401 and reads the public reads' optional cookie as required. Who may call what
# is proven route by route by the access-control matrix (test_matrice_acces.py).


@pytest.fixture(scope="module")
def monde(django_db_setup, django_db_blocker, tmp_path_factory):
    with monde_partage(django_db_blocker, tmp_path_factory.mktemp("media-schemathesis")) as monde:
        yield monde


@pytest.fixture(autouse=True)
def _media():
    """Replaces tests/securite/conftest.py's: the world's files stay in the module's MEDIA_ROOT (see `monde`)."""


@pytest.fixture
def _connexion_conservee():
    """Django closes a connection whose transaction is open at the end of each request; the test client turns
    that off, and so must a raw WSGI call, or the test transaction (and the world) would be lost."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _cookies(monde, role: str) -> dict[str, str]:
    """The role's session (second factor verified for ANSM staff) and a CSRF token, as a browser holds them. They
    go in the case's cookies: the WSGI test client replaces any Cookie header with its own jar."""
    cookies = {"csrftoken": CSRF}
    if role != "anonyme":
        client = Client()
        connecter(client, monde.utilisateurs[role])
        cookies["sessionid"] = client.cookies["sessionid"].value
    return cookies


def _objets_reels(monde) -> dict[str, list]:
    """What a path parameter may point at: side A's objects (reachable by someone) and side B's."""
    demandes = [d.reference for cote in ("a", "b") for d in monde.demandes[cote].values()]
    ids = {
        f"/api/v1/{nom}/{{id}}/": [monde.referentiel[cote][cle].pk for cote in ("a", "b")]
        for nom, cle in (("specialites", "specialite"), ("acces", "acces"), ("indications", "indication"))
    }
    return {"reference": demandes, **ids}


def _viser_un_objet_reel(case, reels: dict) -> None:
    """Two examples out of three aim at a real object (chosen from the drawn value, so the run stays derandomized);
    the third keeps the drawn value, which exercises the 404. Invalid (negative) examples are left as drawn."""
    if case.data_generation_method != DataGenerationMethod.positive or not case.path_parameters:
        return
    for nom, valeur in case.path_parameters.items():
        choix = reels.get(nom) or reels.get(case.operation.path)
        graine = zlib.crc32(str(valeur).encode())
        if choix and graine % 3:
            case.path_parameters[nom] = choix[graine % len(choix)]


def erreur_avec_message(response, case):
    """A refusal says why: a 4xx carries a JSON body with at least one message in words."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        corps = json.loads(response.get_data(as_text=True))
    except ValueError as exc:
        raise AssertionError(f"Réponse {response.status_code} sans corps JSON") from exc

    def textes(valeur):
        if isinstance(valeur, str):
            yield valeur
        elif isinstance(valeur, dict):
            for v in valeur.values():
                yield from textes(v)
        elif isinstance(valeur, list):
            for v in valeur:
                yield from textes(v)

    assert any(len(t.split()) >= 2 for t in textes(corps)), f"Réponse {response.status_code} sans message : {corps}"
    return None


@pytest.mark.parametrize(("methode", "chemin", "role"), CAS, ids=[f"{m} {c} {r}" for m, c, r in CAS])
def test_chaque_operation_de_l_api_tient_son_schema_pour_chaque_role(
    monde, _connexion_conservee, methode, chemin, role, record_property
):
    operation = SCHEMA[chemin][methode]
    cookies = _cookies(monde, role)
    reels = _objets_reels(monde)
    exemples = []

    @hypothesis.settings(
        max_examples=EXEMPLES_PAR_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @hypothesis.given(case=operation.as_strategy())
    def essayer(case):
        _viser_un_objet_reel(case, reels)
        case.cookies = {**(case.cookies or {}), **cookies}
        with transaction.atomic():
            reponse = case.call_wsgi(headers={"X-CSRFToken": CSRF})
            transaction.set_rollback(True)
        exemples.append(reponse.status_code)
        case.validate_response(reponse, additional_checks=(erreur_avec_message,), excluded_checks=(ignored_auth,))

    essayer()
    record_property("exemples", len(exemples))
    assert exemples, "aucun exemple essayé"
