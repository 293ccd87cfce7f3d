"""The jobs dashboard for people: `GET /dashboard`, one static page (api/static/dashboard.html, inline
CSS and JS) that asks for an API key and then calls the JSON API from the browser, like any other
client. This route only serves the file: it needs no key and holds no data."""
from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = resources.files("api").joinpath("static", "dashboard.html").read_text(encoding="utf-8")


def _hashes(tag: str) -> str:
    """CSP source expressions for each inline <tag> block of the page: only the page's own script and
    style run, not one injected into it."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", PAGE, flags=re.DOTALL)
    return " ".join(
        "'sha256-%s'" % base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode() for block in blocks
    )


CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "connect-src 'self'",  # fetch() to this API only
    f"script-src {_hashes('script')}",
    f"style-src {_hashes('style')}",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",  # the key form is never submitted anywhere: the key stays out of URLs
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=HEADERS)
