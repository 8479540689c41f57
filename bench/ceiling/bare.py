"""A bare Flask app: reads the body and answers 200 (the web stack's own ceiling)."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@app.post("/integrations/<name>")
def receive(name: str) -> ResponseReturnValue:
    request.get_data()
    return jsonify(status="ok")
