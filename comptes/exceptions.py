"""The single domain error of the accounts app: services raise it with a French message, views show it."""


class ErreurCompte(Exception):
    def __init__(self, message: str, *, champ: str | None = None):
        self.message = message
        self.champ = champ
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
