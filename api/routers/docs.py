"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), with their scripts and
styles served by the API itself from the fastapi-offline package: FastAPI's defaults load them from a
CDN, which leaves blank pages on a machine without internet."""
from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs/assets"
ASSETS = {  # the only files served: name -> media type
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# ReDoc shows its vendor's logo from a CDN (and hides it when that fails): the one outside request of
# the docs, replaced by an empty image so that no request leaves the reader's browser.
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
REDOC_JS = (ASSETS_DIR / "redoc.standalone.js").read_bytes().replace(REDOC_CDN_LOGO, b"data:,")
CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
TITLE = "pulse-etl API"
OPENAPI_URL = "/openapi.json"


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title=f"{TITLE} (Swagger UI)",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url=OPENAPI_URL, title=f"{TITLE} (ReDoc)", redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False,
    )


@router.get(ASSETS_PATH + "/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no documentation asset {name!r}")
    if name == "redoc.standalone.js":
        return Response(REDOC_JS, media_type=ASSETS[name], headers=CACHE)
    return FileResponse(ASSETS_DIR / name, media_type=ASSETS[name], headers=CACHE)
