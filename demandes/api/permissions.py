"""Who may call the requests API. Lists and lookups are scoped by `selectors.demandes_visibles_par`, so a request
the caller is not party to is a 404 (never a 403 that would confirm it exists); this class repeats the check at
object level as a second lock."""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated

from .. import selectors


class PartieALaDemande(IsAuthenticated):
    message = "Authentification requise."

    def has_object_permission(self, request, view, obj):
        if not selectors.est_partie(request.user, obj):
            raise NotFound("Demande introuvable.")
        return True
