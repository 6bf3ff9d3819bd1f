"""The access-control matrix (issue 7): every route of the portal and of the API, what each role gets on its own
object and on someone else's.

`routes_du_portail()` walks the URL resolver; `MATRICE` declares, for each route name, how to build its URL for
the logged-in role ("propre": the role's own object, or the public one; "autrui": another party's object, or a
non-public one) and what each role must get:

- OK: the page or the data (2xx, or a redirect that is not the login page). For a POST sent with an empty body,
  a 400/409 also passes: the permission check let it through and validation refused the empty input.
- MASQUE: a list the role may open, that must not show the other party's object.
- INTERDIT: 403 (a page that is not for this role), INTROUVABLE: 404 (an object the role may not know exists).
- CONNEXION: an anonymous visitor sent to the login page.

Whatever is refused never contains the object's "secret" (its reference, its name): no data leaks through an error.
A route without an entry, or an entry without a route, fails `test_matrice_acces.py`: adding a route means deciding
who may use it. `.venv/bin/python -m tests.securite.matrice` prints the matrix and its size.

Routes left out: the Django admin under /admin-technique/ (its own staff + second factor guard, tested apart).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum

from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ("anonyme", "prescripteur", "pharmacien", "evaluateur", "laboratoire", "administrateur")
PROPRE, AUTRUI, SANS_OBJET = "propre", "autrui", "sans-objet"
PREFIXES_EXCLUS = ("admin-technique/",)
METHODES_HTTP = ("get", "post", "put", "patch", "delete")


class A(Enum):
    OK = "autorisé"
    MASQUE = "autorisé sans les données d'autrui"
    INTERDIT = "403"
    INTROUVABLE = "404"
    CONNEXION = "page de connexion"


OK, MASQUE, INTERDIT, INTROUVABLE, CONNEXION = A.OK, A.MASQUE, A.INTERDIT, A.INTROUVABLE, A.CONNEXION


# --- Routes ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    nom: str
    motif: str
    methodes_api: tuple[str, ...] | None  # DRF routes: the HTTP methods their viewset answers


def _methodes_api(callback) -> tuple[str, ...] | None:
    actions = getattr(callback, "actions", None)
    if actions is None:
        return None
    autorisees = set(getattr(callback.cls, "http_method_names", METHODES_HTTP))
    return tuple(m for m in METHODES_HTTP if m in actions and m in autorisees)


def _parcourir(motifs, prefixe: str = "", espace: str | None = None):
    for motif in motifs:
        chemin = prefixe + str(motif.pattern)
        if isinstance(motif, URLResolver):
            sous_espace = espace
            if motif.namespace:
                sous_espace = f"{espace}:{motif.namespace}" if espace else motif.namespace
            yield from _parcourir(motif.url_patterns, chemin, sous_espace)
        elif isinstance(motif, URLPattern):
            nom = motif.name or chemin  # an unnamed route still needs an entry
            yield Route(f"{espace}:{nom}" if espace and motif.name else nom, chemin, _methodes_api(motif.callback))


def routes_du_portail() -> dict[str, Route]:
    """Every route of the URLconf but the technical admin's, by name (namespace included)."""
    return {r.nom: r for r in _parcourir(get_resolver().url_patterns) if not r.motif.startswith(PREFIXES_EXCLUS)}


# --- Declarations ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Cible:
    kwargs: dict
    secret: str | None = None  # what the object shows when readable; never in a refusal


@dataclasses.dataclass(frozen=True)
class Entree:
    acces: dict[str, tuple[A, A]]  # role -> (own object, someone else's); routes without object: both equal
    methodes: tuple[str, ...] = ("get",)
    cible: Callable[..., Cible] | None = None  # (monde, role, cas) -> Cible; None: no kwargs
    objet: bool = True  # False: the route has no own/other variant (a static page, a form without object)
    par_methode: dict[str, dict[str, tuple[A, A]]] = dataclasses.field(default_factory=dict)

    @property
    def cas(self) -> tuple[str, ...]:
        return (PROPRE, AUTRUI) if self.objet and self.cible is not None else (SANS_OBJET,)

    def attendu(self, methode: str, role: str, cas: str) -> A:
        propre, autrui = self.par_methode.get(methode, self.acces)[role]
        return autrui if cas == AUTRUI else propre


def regle(**par_role) -> dict[str, tuple[A, A]]:
    """One outcome per role; a single value holds for both own and other's object, a pair gives (own, other)."""
    assert set(par_role) == set(ROLES), set(ROLES) ^ set(par_role)
    return {r: (v, v) if isinstance(v, A) else tuple(v) for r, v in par_role.items()}


def tous(resultat: A = OK) -> dict:
    return regle(**dict.fromkeys(ROLES, resultat))


def connectes(anonyme: A = CONNEXION) -> dict:
    return regle(**{**dict.fromkeys(ROLES, OK), "anonyme": anonyme})


def ansm(anonyme: A = CONNEXION) -> dict:
    """The ANSM's pages: évaluateurs and administrators; 403 for other roles."""
    return regle(
        anonyme=anonyme,
        prescripteur=INTERDIT,
        pharmacien=INTERDIT,
        laboratoire=INTERDIT,
        evaluateur=OK,
        administrateur=OK,
    )


def administrateurs() -> dict:
    return {**ansm(), "evaluateur": (INTERDIT, INTERDIT)}


def role_seul(role: str, propre: A = OK, autrui: A = OK) -> dict:
    """A page of one role (403 for the others); its objects: own OK, someone else's as given (404)."""
    return {**regle(**{**dict.fromkeys(ROLES, INTERDIT), "anonyme": CONNEXION}), role: (propre, autrui)}


PARTIES = ("prescripteur", "pharmacien", "evaluateur", "administrateur")


def partie(*roles_autorises: str, anonyme: A = CONNEXION, masque: bool = False) -> dict:
    """A request: its parties may act as the workflow allows (403 for a party of another role); whoever is not
    party to it gets a 404, laboratories included (they never see patient data). `masque`: a list, where other
    parties' requests are simply absent."""
    autrui = MASQUE if masque else INTROUVABLE
    return regle(
        anonyme=anonyme,
        laboratoire=MASQUE if masque else INTROUVABLE,
        **{r: (OK if r in roles_autorises else INTERDIT, autrui) for r in PARTIES},
    )


def partie_api(*roles_autorises: str) -> dict:
    return partie(*roles_autorises, anonyme=INTERDIT)


# --- Objects of the world (built once per module by `monde.construire`) -----------------------------------------

ANSM = ("evaluateur", "administrateur")


def _cote(cas: str) -> str:
    return "b" if cas == AUTRUI else "a"


def demande(
    etat: str = "octroyee",
    *,
    prescripteur: str | None = None,
    pharmacien: str | None = None,
    ansm: str | None = None,
    **extra,
):
    """A request the role is party to ("propre") or not ("autrui"), in the state `etat` (or the one given for the
    role). ANSM staff see every submitted request: theirs is side A's, in a submitted state; the other one is side
    B's request still at the PUI (never submitted). `extra`: more URL kwargs, a callable gets the request."""

    def construire(monde, role, cas):
        if role in ANSM:
            d = monde.demandes["a"][_soumise(ansm or etat)] if cas == PROPRE else monde.demandes["b"]["transmise"]
        else:
            etat_role = {"pharmacien": pharmacien, "prescripteur": prescripteur}.get(role) or etat
            if role == "pharmacien" and etat_role == "brouillon":
                etat_role = "transmise"  # the PUI is party once the prescriber transmits it (R10)
            d = monde.demandes[_cote(cas)][etat_role]
        kwargs = {"reference": d.reference, **{k: (v(d) if callable(v) else v) for k, v in extra.items()}}
        return Cible(kwargs, secret=d.reference)

    return construire


def _soumise(etat: str) -> str:
    """The ANSM is party once the PUI submits the request."""
    return "en_evaluation" if etat in ("brouillon", "transmise") else etat


def liste_demandes(etat: str = "transmise", ansm: str = "en_evaluation"):
    """A list of requests: the role's own request must be listed, the other party's must not."""
    construire_demande = demande(etat, ansm=ansm)

    def construire(monde, role, cas):
        return Cible({}, secret=construire_demande(monde, role, cas).secret)

    return construire


def objet_referentiel(attribut: str, cle: str = "pk", *, champ: str = "pk", **extra):
    """An object of side A's spécialité (the laboratory user's product, published) or of side B's (another
    laboratory's, not published). Its secret is the spécialité's name."""

    def construire(monde, role, cas):
        cote = monde.referentiel[_cote(cas)]
        objet = cote[attribut]
        return Cible({cle: getattr(objet, champ), **extra}, secret=cote["secrets"][attribut])

    return construire


def liste_referentiel(attribut: str):
    """A list of side A's objects (the laboratory user's): theirs listed, side B's absent."""
    construire_objet = objet_referentiel(attribut)

    def construire(monde, role, cas):
        return Cible({}, secret=construire_objet(monde, role, cas).secret)

    return construire


def information(liste: bool = False):
    """The ANSM's information request to side A's laboratory (R16), or to side B's. Its secret: its question on its
    page, the request's reference (all a laboratory learns of the request) in the list."""

    def construire(monde, role, cas):
        complement = monde.informations[_cote(cas)]
        if liste:
            return Cible({}, secret=complement.demande.reference)
        return Cible({"pk": complement.pk}, secret=complement.question)

    return construire


def _piece(d):
    return d.pieces.get().pk


# --- The matrix --------------------------------------------------------------------------------------------------

GET, POST, GET_POST = ("get",), ("post",), ("get", "post")

ANSM_SPECIALITE = objet_referentiel("specialite")
ANSM_ACCES = objet_referentiel("acces")
ANSM_INDICATION = objet_referentiel("indication")
ANSM_PUT = objet_referentiel("put")
ANSM_RAPPORT = objet_referentiel("rapport")
ANSM_CPC = objet_referentiel("cpc")

MATRICE: dict[str, Entree] = {
    # --- Site-wide pages ---
    "accueil": Entree(tous(), objet=False),
    "sante": Entree(tous(), objet=False),
    "footer-accessibility-status": Entree(tous(), objet=False),
    "footer-legal-notice": Entree(tous(), objet=False),
    "footer-personal-data": Entree(tous(), objet=False),
    "footer-cookie-management": Entree(tous(), objet=False),
    "footer-sitemap": Entree(tous(), objet=False),
    # --- Accounts ---
    "comptes:connexion": Entree(tous(), GET_POST, objet=False),
    "comptes:deconnexion": Entree(tous(), POST, objet=False),
    "comptes:mon_compte": Entree(connectes(), objet=False),
    "comptes:mes_donnees": Entree(connectes(), objet=False),
    "comptes:changement_mot_de_passe": Entree(connectes(), GET_POST, objet=False),
    "comptes:mot_de_passe_oublie": Entree(tous(), GET_POST, objet=False),
    "comptes:mot_de_passe_oublie_envoye": Entree(tous(), objet=False),
    # A reset link with a wrong token: the "invalid link" page for anyone, about nobody.
    "comptes:nouveau_mot_de_passe": Entree(
        tous(),
        cible=lambda monde, *_: Cible({"uidb64": monde.uid_reinitialisation, "token": "jeton-invalide"}),
        objet=False,
    ),
    "comptes:mot_de_passe_reinitialise": Entree(tous(), objet=False),
    # Staff only; already verified, they are sent on.
    "comptes:double_facteur_activation": Entree(ansm(), GET_POST, objet=False),
    "comptes:double_facteur_verification": Entree(ansm(), GET_POST, objet=False),
    # --- The public référentiel (R1, R2): published fiches, for everyone; anything else is a 404 ---
    "referentiel:liste": Entree(tous(), objet=False),
    "referentiel:export": Entree(tous(), objet=False),
    "referentiel:fiche": Entree(
        regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("specialite", "slug", champ="slug")
    ),
    "referentiel:export_indications": Entree(
        regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("specialite", "slug", champ="slug")
    ),
    "referentiel:document": Entree(
        regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("document", "document_id")
    ),
    # --- AAC requests: the parties only (R10, R14, R17) ---
    "demandes:espace": Entree(
        regle(
            anonyme=CONNEXION,
            prescripteur=(OK, MASQUE),
            pharmacien=OK,  # sent to the PUI inbox
            evaluateur=OK,  # sent to the review queue
            administrateur=OK,
            laboratoire=INTERDIT,
        ),
        cible=liste_demandes(),
    ),
    "demandes:nouvelle": Entree(role_seul("prescripteur"), GET_POST, objet=False),
    "demandes:boite_pui": Entree(role_seul("pharmacien", OK, MASQUE), cible=liste_demandes()),
    # The ANSM's former list: a redirect to the review queue, which checks who asks.
    "demandes:instruction": Entree(tous(), objet=False),
    "demandes:detail": Entree(partie(*PARTIES), cible=demande()),
    # The steps of the form: the prescriber on a draft, the pharmacist completing a transmitted request (R14).
    "demandes:etape": Entree(
        partie("prescripteur", "pharmacien") | dict.fromkeys(ANSM, (INTROUVABLE, INTROUVABLE)),
        GET_POST,
        cible=demande("octroyee", prescripteur="brouillon", pharmacien="transmise", etape="patient"),
    ),
    "demandes:action": Entree(partie("prescripteur"), POST, cible=demande("brouillon", action="transmettre")),
    "demandes:decision_pdf": Entree(partie(*PARTIES), cible=demande()),
    "demandes:piece_joindre": Entree(
        partie("prescripteur", "pharmacien"), POST, cible=demande("transmise", prescripteur="brouillon")
    ),
    "demandes:piece": Entree(partie(*PARTIES), cible=demande(pk=_piece)),
    # --- The ANSM's back-office of the référentiel ---
    "ansm:tableau_de_bord": Entree(ansm(), objet=False),
    "ansm:specialites": Entree(ansm(), objet=False),
    "ansm:specialite_creer": Entree(ansm(), GET_POST, objet=False),
    "ansm:specialite": Entree(ansm(), cible=ANSM_SPECIALITE),
    "ansm:specialite_modifier": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:specialite_publication": Entree(ansm(), POST, cible=ANSM_SPECIALITE),
    "ansm:historique": Entree(ansm(), cible=ANSM_SPECIALITE),
    "ansm:acces_creer": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:document_ajouter": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:rapport_creer": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:cpc_creer": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:signalement_creer": Entree(ansm(), GET_POST, cible=ANSM_SPECIALITE),
    "ansm:acces_modifier": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:acces_amm": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:acces_engagement": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:acces_prolonger": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:indication_creer": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:put_creer": Entree(ansm(), GET_POST, cible=ANSM_ACCES),
    "ansm:indication_modifier": Entree(ansm(), GET_POST, cible=ANSM_INDICATION),
    "ansm:indication_supprimer": Entree(ansm(), POST, cible=ANSM_INDICATION),
    "ansm:put_modifier": Entree(ansm(), GET_POST, cible=ANSM_PUT),
    "ansm:put_valider": Entree(ansm(), GET_POST, cible=ANSM_PUT),
    "ansm:put_fichier": Entree(ansm(), cible=ANSM_PUT),
    "ansm:document_supprimer": Entree(ansm(), POST, cible=objet_referentiel("document")),
    "ansm:rapports": Entree(ansm(), objet=False),
    "ansm:rapport": Entree(ansm(), cible=ANSM_RAPPORT),
    "ansm:rapport_fichier": Entree(ansm(), cible=ANSM_RAPPORT),
    "ansm:rapport_action": Entree(ansm(), POST, cible=objet_referentiel("rapport", action="recevoir")),
    "ansm:cpc_liste": Entree(ansm(), objet=False),
    "ansm:cpc": Entree(ansm(), cible=ANSM_CPC),
    "ansm:cpc_action": Entree(ansm(), POST, cible=objet_referentiel("cpc", action="transmettre")),
    "ansm:signalements": Entree(ansm(), GET_POST, objet=False),
    "ansm:engagements_aap": Entree(ansm(), objet=False),
    "ansm:demandes_laboratoires": Entree(ansm(), objet=False),
    "ansm:prolongation_decider": Entree(ansm(), POST, cible=objet_referentiel("prolongation", decision="refuser")),
    "ansm:declaration_decider": Entree(ansm(), POST, cible=objet_referentiel("declaration", decision="rejeter")),
    "ansm:echeances": Entree(ansm(), objet=False),
    # --- The ANSM's review queue, review page and statistics (R15-R19, R44) ---
    "ansm:demandes": Entree(
        ansm() | dict.fromkeys(ANSM, (OK, MASQUE)), cible=liste_demandes("en_evaluation", ansm="en_evaluation")
    ),
    "ansm:instruction": Entree(ansm() | dict.fromkeys(ANSM, (OK, INTROUVABLE)), cible=demande("en_evaluation")),
    "ansm:instruction_action": Entree(
        ansm() | {"evaluateur": (OK, INTROUVABLE), "administrateur": (INTERDIT, INTROUVABLE)},
        POST,
        cible=demande("en_evaluation", action="octroyer"),
    ),
    "ansm:instruction_apercu": Entree(
        ansm() | {"evaluateur": (OK, INTROUVABLE), "administrateur": (INTERDIT, INTROUVABLE)},
        POST,
        cible=demande("en_evaluation", action="octroyer"),
    ),
    "ansm:instruction_assigner_a_moi": Entree(
        ansm() | dict.fromkeys(ANSM, (OK, INTROUVABLE)), POST, cible=demande("en_evaluation")
    ),
    "ansm:statistiques": Entree(ansm(), objet=False),
    "ansm:statistiques_csv": Entree(ansm(), cible=lambda *_: Cible({"tableau": "par-mois"}), objet=False),
    # --- Administrators: the audit trail and the patient-data access log ---
    "ansm:audit": Entree(administrateurs(), objet=False),
    "ansm:audit_export": Entree(administrateurs(), objet=False),
    "ansm:audit_acces": Entree(administrateurs(), objet=False),
    "ansm:audit_acces_export": Entree(administrateurs(), objet=False),
    # --- The laboratory space: its own products only (R23, R29, R32, R34) ---
    "laboratoire:espace": Entree(role_seul("laboratoire", OK, MASQUE), cible=liste_referentiel("specialite")),
    "laboratoire:produit": Entree(role_seul("laboratoire", OK, INTROUVABLE), cible=objet_referentiel("specialite")),
    "laboratoire:declarer_changement": Entree(
        role_seul("laboratoire", OK, INTROUVABLE), GET_POST, cible=objet_referentiel("specialite")
    ),
    "laboratoire:proposer_put": Entree(
        role_seul("laboratoire", OK, INTROUVABLE), GET_POST, cible=objet_referentiel("acces")
    ),
    "laboratoire:demander_prolongation": Entree(
        role_seul("laboratoire", OK, INTROUVABLE), GET_POST, cible=objet_referentiel("acces")
    ),
    "laboratoire:deposer_rapport": Entree(
        role_seul("laboratoire", OK, INTROUVABLE), GET_POST, cible=objet_referentiel("rapport")
    ),
    # The ANSM's information requests on the laboratory's products (R16): its own only.
    "laboratoire:informations": Entree(role_seul("laboratoire", OK, MASQUE), cible=information(liste=True)),
    "laboratoire:information": Entree(role_seul("laboratoire", OK, INTROUVABLE), GET_POST, cible=information()),
    # --- API: the public référentiel (read-only, anyone) ---
    "specialite-list": Entree(tous(), objet=False),
    "specialite-detail": Entree(
        regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("specialite")
    ),
    "acces-list": Entree(tous(), objet=False),
    "acces-detail": Entree(regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("acces")),
    "indication-list": Entree(tous(), objet=False),
    "indication-detail": Entree(
        regle(**dict.fromkeys(ROLES, (OK, INTROUVABLE))), cible=objet_referentiel("indication")
    ),
    "api-schema": Entree(tous(), objet=False),
    "api-docs": Entree(tous(), objet=False),
    # --- API: AAC requests, one endpoint per workflow action (demandes/workflow.py) ---
    "demande-list": Entree(
        partie(*PARTIES, anonyme=INTERDIT, masque=True),
        GET_POST,
        cible=liste_demandes(),
        par_methode={"post": role_seul("prescripteur") | {"anonyme": (INTERDIT, INTERDIT)}},
    ),
    "demande-detail": Entree(
        partie_api(*PARTIES),
        ("get", "patch"),
        cible=demande("octroyee", prescripteur="brouillon", pharmacien="transmise"),
        par_methode={"patch": partie_api("prescripteur", "pharmacien")},
    ),
    "demande-decision": Entree(partie_api(*PARTIES), cible=demande()),
    "demande-transmettre": Entree(partie_api("prescripteur"), POST, cible=demande("brouillon")),
    "demande-renvoyer": Entree(partie_api("pharmacien"), POST, cible=demande("transmise")),
    "demande-soumettre": Entree(partie_api("pharmacien"), POST, cible=demande("transmise")),
    "demande-demander-complement": Entree(partie_api("evaluateur"), POST, cible=demande("en_evaluation")),
    "demande-repondre-complement": Entree(
        partie_api("prescripteur", "pharmacien"), POST, cible=demande("en_evaluation")
    ),
    "demande-octroyer": Entree(partie_api("evaluateur"), POST, cible=demande("en_evaluation")),
    "demande-refuser": Entree(partie_api("evaluateur"), POST, cible=demande("en_evaluation")),
    "demande-regulariser": Entree(partie_api("evaluateur"), POST, cible=demande()),
    "demande-annuler": Entree(partie_api("prescripteur"), POST, cible=demande("brouillon")),
    "demande-recours": Entree(partie_api("prescripteur"), POST, cible=demande()),
    "demande-renouveler": Entree(partie_api("prescripteur"), POST, cible=demande()),
    "demande-pieces-jointes": Entree(
        partie_api("prescripteur", "pharmacien"), POST, cible=demande("transmise", prescripteur="brouillon")
    ),
}


def taille(matrice: dict[str, Entree] | None = None) -> dict[str, int]:
    """Routes, cases (route x role x own/other) and HTTP requests the matrix test sends."""
    matrice = MATRICE if matrice is None else matrice
    cas = sum(len(ROLES) * len(e.cas) for e in matrice.values())
    requetes = sum(len(ROLES) * len(e.cas) * len(e.methodes) for e in matrice.values())
    avec_objet = sum(1 for e in matrice.values() if len(e.cas) == 2)
    return {"routes": len(matrice), "routes_avec_objet": avec_objet, "cas": cas, "requetes": requetes}


def resume() -> str:
    t = taille()
    return (
        f"Matrice d'accès : {t['routes']} routes ({t['routes_avec_objet']} avec objet propre / d'autrui) "
        f"x {len(ROLES)} rôles = {t['cas']} cas, {t['requetes']} requêtes HTTP"
    )


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    routes = routes_du_portail()
    for nom in sorted(MATRICE):
        e = MATRICE[nom]
        print(f"{nom:45} {'/'.join(e.methodes):9} {routes[nom].motif if nom in routes else '(route absente)'}")
    print(resume())
