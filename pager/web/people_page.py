"""The dashboard's pages about people: your own page (your number and its proof, a test page,
how you are paged, your incidents, your sessions, authenticator app and API tokens) and, for
admins, everyone's (end anyone's sessions, revoke anyone's tokens). Pages of the dashboard
blueprint: signed in, CSRF on every POST."""

from __future__ import annotations

import base64

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from pager.flows import access, incidents, people, totp, verify
from pager.flows.context import utcnow
from pager.web.dashboard import blueprint
from pager.web.errors import ROW_ID, pager
from pager.web.sign_in import SignedIn, remote_address, signed_in

MAX_TOKEN_NAME = 100


def _me() -> SignedIn:
    user = signed_in()
    if user is None:  # the dashboard's guard sends strangers to /login before this
        abort(401)
    return user


def _my_page(user: SignedIn, **shown: object) -> str:
    p = pager()
    schedule = p.rotations.schedule
    person = schedule.people.get(user.person) if schedule else None
    return render_template(
        "me.html",
        me=user,
        number=next((v for v in people.people(p) if v.handle == user.person), None),
        rules=person.notify if person else None,
        mine=incidents.paged_to_person(p, user.person),
        sessions=access.open_sessions(pager(), user.person),
        tokens=access.tokens_of(pager(), user.person),
        admin=access.is_admin(pager(), user.person),
        totp_enrolled=totp.enrolled(pager(), user.person),
        **{"new_token": None, "enrolling": None, **shown},
    )


@blueprint.get("/me")
def my_page() -> ResponseReturnValue:
    return _my_page(_me())


@blueprint.post("/me/tokens")
def create_token() -> ResponseReturnValue:
    user = _me()
    name = " ".join(request.form.get("name", "").split())
    if not name or len(name) > MAX_TOKEN_NAME or not name.isprintable():
        abort(400, f"Name the token (1 to {MAX_TOKEN_NAME} characters), e.g. 'laptop script'.")
    token = access.create_token(pager(), user.person, name, utcnow())
    return _my_page(user, new_token=(name, token))


@blueprint.post("/me/totp")
def start_totp() -> ResponseReturnValue:
    user = _me()
    try:
        secret, svg = totp.start_enrolment(pager(), user.person, utcnow())
    except ValueError as exc:
        abort(400, str(exc))
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return _my_page(user, enrolling=(secret, qr))


@blueprint.post("/me/totp/confirm")
def confirm_totp() -> ResponseReturnValue:
    user = _me()
    code = request.form.get("code", "").strip()[:10]
    if totp.confirm_enrolment(pager(), user.person, code, remote_address(), utcnow()):
        flash("Authenticator app set up: you can sign in with it.", "ok")
    else:
        flash("That code did not check. Set the app up again.", "warn")
    return redirect(url_for(".my_page"), 303)


@blueprint.post("/me/totp/remove")
def remove_totp() -> ResponseReturnValue:
    user = _me()
    totp.remove(pager(), user.person, remote_address(), utcnow())
    flash("Authenticator app removed.", "ok")
    return redirect(url_for(".my_page"), 303)


@blueprint.post(f"/tokens/<{ROW_ID}:token_id>/revoke")
def revoke_token(token_id: int) -> ResponseReturnValue:
    user = _me()
    try:
        revoked = access.revoke_token(pager(), user.person, token_id, utcnow())
    except access.NotAllowed as exc:
        abort(403, str(exc))
    flash("Token revoked." if revoked else "No such token (or revoked already).", "ok")
    return redirect(request.referrer or url_for(".my_page"), 303)


@blueprint.post("/people/<person>/sessions/end")
def end_sessions(person: str) -> ResponseReturnValue:
    user = _me()
    raw = request.form.get("session_id", "")
    session_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**62 else None
    try:
        ended = access.end_sessions(pager(), user.person, person, utcnow(), session_id)
    except access.NotAllowed as exc:
        abort(403, str(exc))
    flash(f"{ended} session(s) ended.", "ok")
    if person == user.person and (session_id is None or session_id == user.session_id):
        return redirect(url_for(".login"), 303)  # that was this one
    return redirect(request.referrer or url_for(".my_page"), 303)


@blueprint.get("/people")
def people_page() -> ResponseReturnValue:
    user = _me()
    if not access.is_admin(pager(), user.person):
        abort(403, "Only admins (admins: in the rotation files) see everyone's sessions.")
    schedule = pager().rotations.schedule
    everyone = sorted(schedule.people.values(), key=lambda p: p.id) if schedule else []
    rows = [
        (person, access.open_sessions(pager(), person.id), access.tokens_of(pager(), person.id))
        for person in everyone
    ]
    return render_template("people.html", rows=rows)


@blueprint.post("/me/<any(verify, prove, test):action>")
def me(action: str) -> ResponseReturnValue:
    """Your own number: text me a code, here is the code, send me a test page."""
    signed = signed_in()
    assert signed is not None  # _guard
    p, now, remote = pager(), utcnow(), remote_address()
    try:
        if action == "verify":
            why = verify.send_verify_code(p, signed.person, signed.person, "dashboard", now, remote)
            flash(
                why or "A code is on its way to your phone: reply with it, or enter it here.",
                "warn" if why else "ok",
            )
        elif action == "prove":
            code = request.form.get("code", "").strip()[:20]
            if verify.check_verify_code(p, signed.person, code, "dashboard", now, remote):
                flash("Your number is proven.", "ok")
            else:
                flash("That code is wrong, expired or already used.", "warn")
        else:
            number = people.send_test_page(p, signed.person, signed.person, "dashboard", now)
            flash(f"Test page #{number} sent: acknowledge it as you would a real page.", "ok")
    except verify.NoSuchPerson:
        abort(404, "You are no longer in the rotations.")
    return redirect(url_for(".my_page"), 303)
