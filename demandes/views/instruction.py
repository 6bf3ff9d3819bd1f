"""ANSM: the requests waiting for a decision. The actions on one request (ask a complement, grant, refuse,
confirm a régularisation a posteriori) are on the request's page (views.commun) and call the same services as the
API. Issue 5 builds the full review queue (assignment, filters by spécialité and age) on the same selector."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from comptes.enums import Role

from .. import selectors
from .commun import liste_contexte, role_requis


@require_GET
@role_requis(Role.EVALUATEUR, Role.ADMINISTRATEUR)
def liste(request):
    contexte = liste_contexte(
        request,
        selectors.demandes_a_instruire(request.user),
        titre="Demandes à instruire",
        breadcrumb_data={"current": "Demandes à instruire"},
        vue_ansm=True,
    )
    return render(request, "demandes/liste.html", contexte)
