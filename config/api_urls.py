"""/api/: the versioned REST API and its OpenAPI documentation."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("v1/", include("referentiel.api.urls")),
    path("v1/", include("demandes.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split view: the init script comes from ?script= instead of an inline <script> (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="referentiel/swagger_ui.html"),
        name="api-docs",
    ),
]
