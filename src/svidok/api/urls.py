"""The API object: routers, authentication, error handlers, documentation."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from svidok.api.auth import TokenAuth
from svidok.api.errors import install_error_handlers
from svidok.api.geo import router as geo_router
from svidok.apps.custody.api import router as custody_router
from svidok.apps.evidence.api import router as evidence_router
from svidok.apps.incidents.api import router as incidents_router
from svidok.apps.text.api import router as text_router

api = NinjaAPI(
    title="Svidok API",
    version="1",
    description="Evidence, custody proofs and access control. Authenticate with "
                "`Authorization: Bearer <token>`; errors are `{\"message\", \"extra\"}`.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs=Swagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("/", evidence_router)
api.add_router("/", custody_router)
api.add_router("/", text_router)
api.add_router("/", geo_router)
api.add_router("/", incidents_router)

# The schema and its documentation page hold no data: anyone may read them.
PUBLIC_URL_NAMES = {"openapi-json", "openapi-view", "api-root"}
