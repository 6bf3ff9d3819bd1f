"""The request form with the keyboard alone (issue 7): a prescriber starts a request and files its first steps with
Tab, Shift+Tab, Space, Enter and the arrow keys only, never the mouse. Every field of each step and its submit button
are reached by Tab, in order, each with a visible focus; the steps are saved as the keys leave them."""

import pytest

from demandes.models import DemandeAAC
from tests.factories import (
    AccesFactory,
    CritereFactory,
    IndicationFactory,
    PUIFactory,
    SpecialiteFactory,
    UtilisateurFactory,
)
from tests.factories.referentiel import indexer_specialites

from .test_accessibilite import connecter_navigateur

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What has the focus, and whether a sighted keyboard user sees where it is: the element's own focus ring, or for the
# DSFR's visually hidden radio buttons and checkboxes, the ring their label draws.
FOCUS = """() => {
    const e = document.activeElement;
    const voyant = (s) => (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
    const style = getComputedStyle(e);
    let visible = e.matches(":focus-visible") && voyant(style) && parseFloat(style.opacity) > 0;
    if (!visible && e.labels && e.labels.length) {
        const l = e.labels[0];
        const anneau = voyant(getComputedStyle(l, "::before")) || voyant(getComputedStyle(l));
        visible = e.matches(":focus-visible") && anneau;
    }
    const formulaire = e.form ? (e.form.id || e.form.getAttribute("action") || "formulaire") : null;
    return {
        balise: e.tagName.toLowerCase(),
        type: e.type || "",
        nom: e.name || "",
        valeur: e.value || "",
        texte: (e.innerText || "").trim().slice(0, 80),
        formulaire: formulaire || (e.closest("form") ? "formulaire" : null),
        visible: visible,
    };
}"""

# What Tab should stop on in a form, in document order: one stop per radio group, one per other control or link.
CHAMPS = """(selecteur) => {
    const arrets = [];
    for (const e of document.querySelector(selecteur).querySelectorAll("input, select, textarea, button, a[href]")) {
        if (e.type === "hidden" || e.disabled || e.closest("[hidden]")) continue;
        if (e.offsetParent === null && e.type !== "radio" && e.type !== "checkbox") continue;
        const cle = e.tagName === "BUTTON" ? "bouton:" + e.innerText.trim()
            : e.tagName === "A" ? "lien:" + e.innerText.trim() : e.name;
        if (!arrets.includes(cle)) arrets.push(cle);
    }
    return arrets;
}"""


def focus(page) -> dict:
    return page.evaluate(FOCUS)


def cle(f: dict) -> str:
    if f["balise"] in ("button", "a"):
        return f"{'bouton' if f['balise'] == 'button' else 'lien'}:{f['texte']}"
    return f["nom"]


def tab(page, *, arriere: bool = False) -> dict:
    page.keyboard.press("Shift+Tab" if arriere else "Tab")
    return focus(page)


def tab_jusqu_a(page, condition, *, maximum: int = 60) -> dict:
    for _ in range(maximum):
        f = tab(page)
        if condition(f):
            return f
    raise AssertionError("Tab n'atteint jamais l'élément attendu")


def parcourir_le_formulaire(page, selecteur: str) -> list[str]:
    """Tab from the top of the page through the whole form: returns the stops inside it, in order, each checked to
    show its focus."""
    page.locator("body").focus()
    arrets = []
    f = tab_jusqu_a(
        page,
        lambda f: (
            f["formulaire"] is not None
            and page.evaluate("(s) => document.querySelector(s).contains(document.activeElement)", selecteur)
        ),
    )
    while page.evaluate("(s) => document.querySelector(s).contains(document.activeElement)", selecteur):
        assert f["visible"], f"focus invisible sur {f}"
        arrets.append(cle(f))
        f = tab(page)
    return arrets


def soumettre(page, libelle: str, url_suivante: str) -> None:
    """Tab to the form's submit button, then Enter."""
    f = focus(page)
    while not (f["balise"] == "button" and f["texte"] == libelle):
        f = tab(page)
    assert f["visible"]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(url_suivante), page.url


def test_un_prescripteur_depose_les_premieres_etapes_d_une_demande_au_clavier_seul(
    page, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    specialite = SpecialiteFactory(nom="IMBRUVICA 140 mg, gélule", slug="imbruvica")
    acces = AccesFactory(specialite=specialite)
    lymphome = IndicationFactory(acces=acces, libelle="Lymphome à cellules du manteau en rechute", ordre=1)
    IndicationFactory(acces=acces, libelle="Leucémie lymphoïde chronique", ordre=2)
    CritereFactory(indication=lymphome, libelle="Au moins une ligne antérieure", ordre=1)
    CritereFactory(indication=lymphome, libelle="Absence d'alternative appropriée", ordre=2)
    indexer_specialites(specialite)
    prescripteur = UtilisateurFactory(prescripteur=True)
    PUIFactory(etablissement=prescripteur.etablissement, nom="PUI du centre")
    connecter_navigateur(page, prescripteur, live_server)

    # 1. The skip link first, then the search of the référentiel, then the spécialité (Space) and its button (Enter).
    page.goto("/demandes/nouvelle/")
    premier = tab(page)
    assert premier["balise"] == "a" and premier["texte"] == "Contenu" and premier["visible"]
    page.keyboard.press("Enter")
    recherche = tab_jusqu_a(page, lambda f: f["nom"] == "q")
    assert recherche["visible"]
    page.keyboard.type("imbruvica")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert (
        parcourir_le_formulaire(page, "#form-specialite")
        == page.evaluate(CHAMPS, "#form-specialite")
        == [
            "specialite",
            "bouton:Choisir cette spécialité et continuer",
        ]
    )
    tab_jusqu_a(page, lambda f: f["nom"] == "specialite")
    page.keyboard.press("Space")
    soumettre(page, "Choisir cette spécialité et continuer", "/etape/indication/")
    demande = DemandeAAC.objects.get(prescripteur=prescripteur)
    assert demande.specialite == specialite

    # 2. The indication: one stop for the radio group, the arrow keys move within it.
    assert parcourir_le_formulaire(page, "#form-etape") == page.evaluate(CHAMPS, "#form-etape")
    choix = tab_jusqu_a(page, lambda f: f["nom"] == "choix")
    page.keyboard.press("ArrowDown")
    assert page.locator('input[name="choix"]:checked').get_attribute("value") != choix["valeur"]
    page.keyboard.press("ArrowUp")
    assert page.locator('input[name="choix"]:checked').get_attribute("value") == str(lymphome.pk)
    suivant = tab(page)
    assert tab(page, arriere=True)["nom"] == "choix"  # Shift+Tab comes back to the group
    assert suivant["nom"] == "indication_libre"
    soumettre(page, "Enregistrer et continuer", "/etape/criteres/")
    demande.refresh_from_db()
    assert demande.indication == lymphome

    # 3. The criteria: each one a radio group (oui / non), answered with the arrow keys.
    champs = page.evaluate(CHAMPS, "#form-etape")
    assert parcourir_le_formulaire(page, "#form-etape") == champs
    for nom in [c for c in champs if c.startswith("critere_")]:
        tab_jusqu_a(page, lambda f, nom=nom: f["nom"] == nom)
        page.keyboard.press("ArrowRight")  # "non"
        page.keyboard.press("ArrowLeft")  # back to "oui", which the arrow keys also check
        assert page.locator(f'input[name="{nom}"]:checked').get_attribute("value") == "oui"
    soumettre(page, "Enregistrer et continuer", "/etape/patient/")
    assert sorted(demande.attestations.values_list("rempli", flat=True)) == [True, True]

    # 4. The patient: typed fields, a select changed with the arrow keys, radio groups.
    assert parcourir_le_formulaire(page, "#form-etape") == page.evaluate(CHAMPS, "#form-etape")
    tab_jusqu_a(page, lambda f: f["nom"] == "patient_initiales")
    page.keyboard.press("Control+A")
    page.keyboard.type("M.L.")
    tab(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    unite = tab(page)
    assert unite["nom"] == "patient_age_unite"
    page.keyboard.press("ArrowDown")  # ans -> mois
    sexe = tab(page)
    assert sexe["nom"] == "patient_sexe"
    page.keyboard.press("ArrowRight")
    tab(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("8.4")
    soumettre(page, "Enregistrer et continuer", "/etape/traitement/")
    demande.refresh_from_db()
    assert (demande.patient_initiales, demande.patient_age, demande.patient_age_unite, demande.patient_sexe) == (
        "M.L.",
        7,
        "mois",
        "M",
    )
    assert str(demande.patient_poids_kg) == "8.4"
    assert page.erreurs_console == []
