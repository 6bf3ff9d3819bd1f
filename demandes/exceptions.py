"""The single domain error of the request workflow.

Services raise it with a French message (and the rule it enforces); pages show it as a form error, the API
answers with `statut_http`. Subclasses only change that status, so callers catch `DemandeError` alone.
"""


class DemandeError(Exception):
    statut_http = 400

    def __init__(
        self,
        message: str,
        *,
        regle: str | None = None,
        champ: str | None = None,
        erreurs: list["DemandeError"] | None = None,
    ):
        self.message = message
        self.regle = regle
        self.champ = champ
        # Several rules broken at once (filing, submission): each one keeps its message, rule and field.
        self.erreurs = erreurs or [self]
        super().__init__(self.texte)

    @classmethod
    def plusieurs(cls, erreurs: list["DemandeError"], *, prefixe: str) -> "DemandeError":
        if len(erreurs) == 1:
            return erreurs[0]
        return cls(f"{prefixe} : " + " ".join(e.texte for e in erreurs), erreurs=erreurs)

    def en_dict(self) -> dict:
        """The API's error body: one `detail` and the list of broken rules with their field."""
        return {
            "detail": self.texte,
            "erreurs": [{"message": e.texte, "regle": e.regle, "champ": e.champ} for e in self.erreurs],
        }

    @property
    def texte(self) -> str:
        """The message as users read it, with the rule it enforces (« (R24) »)."""
        if self.regle and f"({self.regle})" not in self.message:
            return f"{self.message} ({self.regle})"
        return self.message

    def __str__(self) -> str:
        return self.texte


class TransitionInterdite(DemandeError):
    """The user's role may not perform this action (the workflow table says so)."""

    statut_http = 403


class ConflitEtat(DemandeError):
    """The request is no longer in a state (or version) that allows the action: someone else acted first."""

    statut_http = 409


MESSAGE_CONFLIT = (
    "La demande a été modifiée entre-temps par une autre personne : rechargez la page pour voir sa dernière version "
    "avant de recommencer. Vos saisies n'ont pas été enregistrées."
)
