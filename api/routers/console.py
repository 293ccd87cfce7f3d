"""The console: the React app built into api/static/console/ (ui/, `npm ci && npm run build`), served
at `/` like any static site with a history fallback: a path without a file extension is one of the
app's own URLs (`/jobs/<id>`), answered with index.html for the app's router to read. The app is only a
client of the JSON API: this serves files, needs no key and holds no data.

Mounted last (api.main), as one route that matches only GET and HEAD outside the API's own prefixes:
an unknown `/api/...` path stays a JSON 404, and a POST anywhere unknown a 404 as before."""
from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

# Where the built bundle is; tests point it at a bundle of their own.
CONSOLE_DIR = Path(str(resources.files("api").joinpath("static", "console")))

# Never the console's: the API, its docs and the other pages keep their routes (and their 404s).
RESERVED_PREFIXES = ("/api", "/docs", "/redoc", "/metrics", "/ready", "/dashboard")
RESERVED_PATHS = ("/openapi.json",)

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",  # blob: integration logos, fetched with the key (never as HTML)
    "font-src 'self'",
    "connect-src 'self'",  # fetch() to this API only
    "base-uri 'none'",
    "form-action 'none'",  # no form is ever submitted anywhere: the key stays out of URLs
    "frame-ancestors 'none'",
))
INDEX_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Vite names every file under assets/ by its content hash: a changed file is a new name.
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
# Other files of the bundle (public/: a favicon, robots.txt) keep their names: revalidated.
FILE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8", ".json": "application/json",
    ".map": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".webp": "image/webp", ".ico": "image/x-icon", ".woff2": "font/woff2",
    ".woff": "font/woff", ".txt": "text/plain; charset=utf-8", ".webmanifest": "application/manifest+json",
}
NOT_BUILT = "the console is not built: run `npm ci && npm run build` in ui/ (it writes api/static/console/)\n"


def is_reserved(path: str) -> bool:
    return (path in RESERVED_PATHS or path.startswith("/health")
            or any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES))


def _not_found() -> Response:
    return PlainTextResponse("not found\n", status_code=404, headers={"X-Content-Type-Options": "nosniff"})


def _bundle_file(root: Path, parts: tuple[str, ...]) -> Path | None:
    """The bundle's file at these path segments, if it is one inside the bundle (symlinks resolved)."""
    try:
        root = root.resolve()
        candidate = root.joinpath(*parts).resolve()
    except (OSError, ValueError):
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _file(path: Path, headers: dict) -> Response:
    media_type = CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=headers)


def _index(root: Path) -> Response:
    index = _bundle_file(root, ("index.html",))
    if index is None:
        return PlainTextResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
    return _file(index, INDEX_HEADERS)


async def serve(request: Request) -> Response:
    root = CONSOLE_DIR
    path = request.scope["path"]  # %-decoded
    parts = tuple(part for part in path.split("/") if part)
    # `..`, `.`, a backslash or a NUL in a segment (sent as such or %-encoded): never a file of the bundle.
    if any(part in (".", "..") or "\\" in part or "\x00" in part for part in parts):
        return _not_found()
    if not parts or parts == ("index.html",):
        return _index(root)
    if parts[0] == "assets":
        found = _bundle_file(root, parts)
        return _file(found, ASSET_HEADERS) if found else _not_found()
    if PurePosixPath(parts[-1]).suffix:  # a file name: the bundle's, or nothing
        found = _bundle_file(root, parts)
        return _file(found, FILE_HEADERS) if found else _not_found()
    return _index(root)  # one of the app's own URLs: its router reads the path


async def old_dashboard(request: Request) -> Response:
    """The single page that came before the console: its bookmarks land on the console's jobs."""
    return RedirectResponse("/jobs", status_code=308)


class ConsoleRoute(Route):
    """`/{path}` for GET and HEAD outside the reserved prefixes; for anything else no match at all (not
    a 405), so the router answers as if this route did not exist."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_reserved(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def mount(app: FastAPI) -> None:
    """Add the console's routes after every other: call it last."""
    app.router.routes.append(Route("/dashboard", old_dashboard, methods=["GET", "HEAD"], include_in_schema=False))
    app.router.routes.append(ConsoleRoute("/{path:path}", serve, methods=["GET", "HEAD"], include_in_schema=False))
