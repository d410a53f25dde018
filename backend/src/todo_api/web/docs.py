"""/docs (Swagger UI) and /redoc served with their assets from this app: they work offline.

FastAPI's defaults load Swagger UI and ReDoc from a CDN, so the pages are blank without
internet. The assets come from the `fastapi-offline` package (its static files only) and are
served under /docs-assets, with FastAPI's own page builders. ReDoc's sidebar still shows
Redocly's logo from their CDN (hidden when it fails to load): the pages' Content-Security-Policy
allows images from this server only, so opening the docs never reaches another host.
"""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
# Images only: Swagger UI's and ReDoc's inline scripts and styles are left as they are.
_ONLY_LOCAL_IMAGES = {"Content-Security-Policy": "img-src 'self' data:"}


def install(app: FastAPI, *, openapi_url: str) -> None:
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _local_images(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - docs",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                # Authorize once, keep the token across reloads while exploring.
                swagger_ui_parameters={"persistAuthorization": True},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _local_images(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - reference",
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )


def _local_images(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(_ONLY_LOCAL_IMAGES)
    return page
