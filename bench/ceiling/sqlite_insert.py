"""A minimal Flask app that parses each webhook (json.loads) and stores it with one SQLite
insert in WAL mode: the ceiling for an app that commits an alert before answering.

`BENCH_CEILING_DB` names the database file (made by `prepare`); `BENCH_CEILING_SYNC` is the
`synchronous` pragma: FULL (what pager uses: a 2xx survives power loss) or NORMAL.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)
_connection: sqlite3.Connection | None = None


def connect(path: str | Path, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    return connection


def prepare(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS alerts "
            "(id INTEGER PRIMARY KEY, group_key TEXT, received TEXT, body TEXT)"
        )


def _db() -> sqlite3.Connection:
    global _connection
    if _connection is None:  # one per gunicorn worker, opened after the fork
        _connection = connect(
            os.environ["BENCH_CEILING_DB"], os.environ.get("BENCH_CEILING_SYNC", "FULL")
        )
    return _connection


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@app.post("/integrations/<name>")
def receive(name: str) -> ResponseReturnValue:
    raw = request.get_data()
    body = json.loads(raw)
    _db().execute(
        "INSERT INTO alerts (group_key, received, body) VALUES (?, datetime('now'), ?)",
        (body.get("groupKey"), raw.decode()),
    )
    return jsonify(status="ok", alerts=len(body.get("alerts", [])))
