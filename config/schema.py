"""The OpenAPI schema's account of refusals: besides its success, what every operation of the API may answer.

drf-spectacular documents the responses a view declares; the refusals that come from the framework around it are
the same everywhere and were missing, so a client (and schemathesis, issue 7) met answers the schema did not
announce: a filter value that does not parse (400), a page number past the end (404), an anonymous call or an ANSM
session without its second factor (403), the throttle (429). `SchemaAvecRefus` adds them, with the error body they
carry, to each operation that can produce them, unless the view already documents that status.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERREUR = {
    "type": "object",
    "description": "Le motif du refus, en français : `detail`, et pour un champ invalide la liste de ses messages.",
    "properties": {
        "detail": {"type": "string"},
        "erreurs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "regle": {"type": "string", "nullable": True},
                    "champ": {"type": "string", "nullable": True},
                },
            },
        },
    },
    "additionalProperties": {"type": "array", "description": "Messages d'erreur d'un champ ou d'un paramètre."},
}


class SchemaAvecRefus(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        composant = ResolvedComponent(name="Erreur", type=ResolvedComponent.SCHEMA, object="Erreur", schema=ERREUR)
        self.registry.register_on_missing(composant)
        reponses = operation["responses"]
        for code, description in self._refus_possibles(operation).items():
            reponses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": composant.ref}}}
            )
        return operation

    def _refus_possibles(self, operation) -> dict[str, str]:
        parametres = {p["in"] for p in operation.get("parameters", [])}
        anonyme_admis = {} in operation.get("security", [{}])
        refus = {}
        if "query" in parametres or "requestBody" in operation:
            refus["400"] = "Paramètre ou champ invalide : le message dit lequel et pourquoi."
        refus["403"] = (
            "Session d'un agent de l'ANSM sans second facteur vérifié."
            if anonyme_admis
            else "Authentification requise, second facteur manquant ou action réservée à un autre rôle."
        )
        if "path" in parametres or self._get_paginator() is not None:
            refus["404"] = "Objet introuvable (ou non public), ou page au-delà de la dernière."
        refus["429"] = "Trop de requêtes : réessayez après le délai indiqué par l'en-tête Retry-After."
        return refus
