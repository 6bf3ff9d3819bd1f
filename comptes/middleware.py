"""Second factor of ANSM staff: no page, no API call until the TOTP code of the session is checked."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .selectors import double_facteur_appareil

MESSAGE_API = (
    "Second facteur requis : les agents de l'ANSM et les administrateurs doivent saisir le code de leur "
    "application d'authentification avant d'utiliser l'API."
)


class DoubleFacteurMiddleware:
    """Send an authenticated staff user whose session has no verified OTP device to the 2FA pages.

    Staff: `second_facteur_requis`, the ANSM roles and any account allowed into the technical administration.

    Must come after django_otp's OTPMiddleware, which sets `request.user.is_verified()`. Only the 2FA pages
    themselves, logout, the health probe and static files stay reachable, so a stolen password alone opens
    nothing (issue 7). Other roles are never asked.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._libres: tuple[str, ...] | None = None

    def _chemins_libres(self) -> tuple[str, ...]:
        if self._libres is None:  # reversed lazily: the URLconf is not loaded when middleware is built
            self._libres = (
                reverse("comptes:double_facteur_activation"),
                reverse("comptes:double_facteur_verification"),
                reverse("comptes:deconnexion"),
                reverse("sante"),
                settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
            )
        return self._libres

    def __call__(self, request):
        utilisateur = request.user
        if (
            utilisateur.is_authenticated
            and getattr(utilisateur, "second_facteur_requis", False)
            and not utilisateur.is_verified()
            and not request.path.startswith(self._chemins_libres())
        ):
            return self._exiger_second_facteur(request, utilisateur)
        return self.get_response(request)

    def _exiger_second_facteur(self, request, utilisateur):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": MESSAGE_API}, status=403)
        nom = (
            "comptes:double_facteur_verification"
            if double_facteur_appareil(utilisateur=utilisateur) is not None
            else "comptes:double_facteur_activation"
        )
        suivant = request.get_full_path() if request.method == "GET" else "/"
        cible = f"{reverse(nom)}?{urlencode({'next': suivant})}"
        if request.headers.get("HX-Request"):
            # htmx would swap the verification page into a fragment: ask it to navigate instead.
            reponse = HttpResponse(status=204)
            reponse["HX-Redirect"] = cible
            return reponse
        return redirect(cible)
