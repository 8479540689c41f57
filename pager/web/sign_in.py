"""Who a dashboard request comes from: the server-side session its cookie names
(`flows.sign_in`), and the CSRF token every POST must carry.

The cookie holds only a random token (the database keeps its SHA-256); it is `HttpOnly`,
`SameSite=Lax`, and `Secure` whenever `public_url` is https. Before sign-in, the forms' CSRF
token lives in Flask's signed session, which holds nothing else of weight.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, g, request, session
from werkzeug.wrappers import Response

from pager.flows.context import utcnow
from pager.flows.sign_in import SignedIn, session_for
from pager.web.errors import pager

COOKIE = "pager_session"
STALE_FORM = (
    "This form is stale or did not come from this dashboard (CSRF check failed). "
    "Reload the page and try again."
)


def signed_in() -> SignedIn | None:
    """The signed-in person of this request (looked up once per request)."""
    if "signed_in" not in g:
        g.signed_in = session_for(pager(), request.cookies.get(COOKIE, ""), utcnow())
    found: SignedIn | None = g.signed_in
    return found


def csrf_token() -> str:
    """The token the page's forms carry: the session's once signed in, else one kept in
    Flask's signed cookie for the sign-in forms."""
    user = signed_in()
    if user is not None:
        return user.csrf
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    given = request.form.get("csrf_token", "")
    if not hmac.compare_digest(given.encode(), csrf_token().encode()):
        abort(400, STALE_FORM)


def set_session_cookie(response: Response, token: str) -> Response:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(pager().settings.sign_in.lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=pager().settings.public_url.startswith("https://"),
    )
    return response


def clear_session_cookie(response: Response) -> Response:
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")
    return response


def remote_address() -> str | None:
    return request.remote_addr
