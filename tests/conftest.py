"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when PAGER_TEST_POSTGRES_URL is
set), a `Pager` wired as the daemon wires it, and a fake Twilio on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

# The SDK rewrites the API host from these; tests talk only to 127.0.0.1.
os.environ.pop("TWILIO_EDGE", None)
os.environ.pop("TWILIO_REGION", None)

from pager.app import build_pager  # noqa: E402
from pager.config import IntegrationSettings, ProviderSettings, Settings  # noqa: E402
from pager.flows.context import Pager  # noqa: E402
from tests.e2e.daemon import spawned_count, stop_spawned_since  # noqa: E402
from tests.fakes.twilio import FakeTwilio  # noqa: E402
from tests.openapi_check import CheckedClient  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
ROTATIONS = FIXTURES / "rotations"
POSTGRES_URL = os.environ.get("PAGER_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def _api_answers_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Flask test client checks each `/api/v1` answer against the OpenAPI document."""
    monkeypatch.setattr(Flask, "test_client_class", CheckedClient)


@pytest.fixture(autouse=True)
def _no_server_outlives_its_test() -> Iterator[None]:
    """A test's daemons, workers and Alertmanagers end with it, passed or failed.

    Processes a module- or session-scoped fixture started before the test are left to it."""
    count = spawned_count()
    yield
    stop_spawned_since(count)


def pytest_sessionfinish(session: pytest.Session) -> None:
    stop_spawned_since(0)  # what a wider fixture or an interrupted run left


def _postgres_schema_url(base: str) -> Iterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that uses the store runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pager.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(
            "PAGER_TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    yield from _postgres_schema_url(POSTGRES_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pager.db'}"


def make_settings(database_url: str, *providers: ProviderSettings, **changes: object) -> Settings:
    settings = Settings(
        database_url=database_url,
        rotations=ROTATIONS,
        public_url="http://127.0.0.1:8080",
        api_tokens=("api-token",),
        providers=providers or (ProviderSettings("sandbox", "sandbox"),),
        integrations={
            "payments-am": IntegrationSettings(
                "payments-am", "payments", "alertmanager", "am-token"
            ),
            "payments-grafana": IntegrationSettings(
                "payments-grafana", "payments", "grafana", "gf-token"
            ),
        },
        source="tests",
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(auto_status=None) as fake:
        yield fake


def twilio_settings(fake: FakeTwilio, name: str = "twilio") -> ProviderSettings:
    return ProviderSettings(
        name,
        "twilio",
        {
            "account_sid": fake.account_sid,
            "auth_token": fake.auth_token,
            "from": "+15017122661",
            "api_base_url": fake.base_url,
            "timeout": "5",
        },
    )


@pytest.fixture
def pager(database_url: str) -> Iterator[Pager]:
    """A Pager on a fresh database with the sandbox provider and the test rotations."""
    built = build_pager(make_settings(database_url))
    yield built
    built.db.dispose()
