"""Wiring: settings -> database, providers, rotations -> a `Pager` the web and runner share."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from pager.config import Settings
from pager.config.model import REPO_ROTATIONS
from pager.flows import webhooks
from pager.flows.context import Pager, utcnow
from pager.flows.heartbeats import register_heartbeats
from pager.flows.rotations import load_rotations
from pager.providers import build
from pager.providers.sandbox import PhoneMessage
from pager.store import sandbox as sandbox_store
from pager.store import secrets as secrets_store
from pager.store.db import Database
from pager.store.models import SandboxMessage
from pager.store.rotations_git import mask_credentials

log = logging.getLogger(__name__)


def build_pager(settings: Settings, *, migrate: bool = True, durable: bool = True) -> Pager:
    """Open the store (migrating it), fill generated tokens, build providers, load rotations.

    `durable=False` for a process that answers no webhooks (`pager worker`): see `Database`."""
    db = Database(settings.database_url, durable=durable)
    if migrate:
        db.upgrade()
    with db.transaction() as session:
        integrations = {
            name: replace(
                i, token=i.token or secrets_store.generated(session, f"integration:{name}")
            )
            for name, i in settings.integrations.items()
        }
        api_tokens = settings.api_tokens or (secrets_store.generated(session, "api"),)
        token_names = settings.api_token_names if settings.api_tokens else ("api",)
        sandbox_token = secrets_store.generated(session, "sandbox")
        calendar_token = secrets_store.generated(session, "calendar")
        session_key = secrets_store.generated(session, "session-key")
        beats = {
            name: replace(b, token=b.token or secrets_store.generated(session, f"heartbeat:{name}"))
            for name, b in settings.heartbeats.items()
        }
    # Only tokens pager made itself are shown at start-up: configured ones come from the
    # environment, and stdout ends up in logs.
    configured = {i.token for i in settings.integrations.values()} | set(settings.api_tokens)
    configured |= {b.token for b in settings.heartbeats.values()}
    settings = replace(
        settings,
        integrations=integrations,
        api_tokens=api_tokens,
        api_token_names=token_names,
        heartbeats=beats,
    )

    def record(message: PhoneMessage) -> None:
        with db.transaction() as session:
            sandbox_store.add(
                session,
                SandboxMessage(
                    at=message.at,
                    number=message.number,
                    direction=message.direction,
                    channel=message.channel,
                    body=message.body,
                    provider_message_id=message.message_id,
                ),
            )

    providers = [build(p, sandbox_token=sandbox_token, record=record) for p in settings.providers]
    pager = Pager(
        db=db,
        settings=settings,
        providers=providers,
        calendar_token=calendar_token,
        session_key=session_key,
        configured_tokens=frozenset(t for t in configured if t),
    )
    webhooks.watch(pager)  # before anything can change an incident
    rotations = load_rotations(pager, utcnow())
    register_heartbeats(pager, utcnow())
    if rotations.schedule is None:
        log.error("event=no_rotations problems=%d", len(rotations.problems))
    return pager


def banner(pager: Pager) -> str:
    """What `pager serve` prints: where to point Alertmanager, and with which token."""
    url, settings = pager.settings.public_url, pager.settings
    lines = [f"pager is listening on http://{settings.bind}  (config: {settings.source})"]
    lines.append(f"  public URL:  {url}  (what providers and senders are given)")
    lines.append(f"  rotations:   {_rotations_shown(pager.settings)}")
    for name, integration in pager.settings.integrations.items():
        lines.append(
            f"  {integration.source} integration '{name}' -> service '{integration.service}'"
        )
        lines.append(f"    url:   {url}/integrations/{name}")
        lines.append(
            f"    token: {_shown(pager, integration.token)}"
            "   (send as 'Authorization: Bearer <token>')"
        )
    for name, beat in pager.settings.heartbeats.items():
        lines.append(
            f"  heartbeat '{name}': {url}/heartbeat/{name}  token: {_shown(pager, beat.token)}"
        )
    lines.append(f"  API token: {_shown(pager, pager.settings.api_tokens[0])}")
    lines.append(f"  dashboard: {url}/  (sign in with the API token)")
    for provider in pager.providers:
        token = getattr(provider, "token", None)
        if provider.__class__.__name__ == "SandboxProvider" and token:
            lines.append(f"  sandbox phones: {url}/sandbox?token={token}")
    rotations = pager.rotations
    for rotation in sorted(rotations.schedule.rotations if rotations.schedule else []):
        lines.append(
            f"  calendar '{rotation}': {url}/calendar/{rotation}.ics?token={pager.calendar_token}"
        )
    if rotations.schedule is None:
        lines.append("  WARNING: no valid rotations: nobody can be paged. Run `pager check`.")
    elif rotations.problems:
        lines.append(
            "  WARNING: rotation files invalid; using the last good set. Run `pager check`."
        )
    return "\n".join(lines)


def _rotations_shown(settings: Settings) -> str:
    """Where the rotations come from, said plainly (the packaged example is no surprise)."""
    git = settings.rotations_git
    if git is not None:
        path = git.path or "(the root)"
        return f"git {mask_credentials(git.url, git.url)} branch {git.branch}, path {path}"
    where = settings.rotations.resolve()
    if where == REPO_ROTATIONS.resolve() and not Path("rotations").is_dir():
        return f"{where}  (the example shipped with pager: there is no ./rotations here)"
    return str(where)


def _shown(pager: Pager, token: str | None) -> str:
    if token and token in pager.configured_tokens:
        return "(the one in your configuration)"
    return token or "(none)"
