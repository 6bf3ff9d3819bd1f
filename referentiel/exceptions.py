"""The single domain error of the référentiel.

Services raise it with a French message (and the rule it enforces); the back-office shows it as a form error,
the API answers with `statut_http`. Callers catch `ReferentielError` alone.
"""


class ReferentielError(Exception):
    statut_http = 400

    def __init__(self, message: str, regle: str | None = None, *, champ: str | None = None):
        self.message = message
        self.regle = regle
        self.champ = champ
        super().__init__(self.texte)

    @property
    def texte(self) -> str:
        """The message as users read it, with the rule it enforces (« (R24) »)."""
        if self.regle and f"({self.regle})" not in self.message:
            return f"{self.message} ({self.regle})"
        return self.message

    def __str__(self) -> str:
        return self.texte
