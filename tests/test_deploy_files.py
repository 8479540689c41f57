"""Every file in deploy/ passes its own real validator: hadolint, systemd-analyze, kubernetes-
validate, promtool, amtool, yamllint, the Compose Specification's schema, Grafana's schema (as
grafana-foundation-sdk's models), and pager's own settings reader and `pager check`.

The validators are required, not optional: `.ci/run` installs the Debian ones (prometheus,
prometheus-alertmanager, systemd) and `.[test]` the PyPI ones, so a missing one fails here.
Only `docker compose config` is skipped where Docker's compose plugin is absent (it is not a
Debian package); the schema check of compose.yaml runs everywhere.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from pager import metrics
from pager.cli import main
from pager.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FIXTURES = Path(__file__).parent / "fixtures" / "deploy"
UNITS = ("pager-serve.service", "pager-web.service", "pager-worker.service")
# The lead's outgoing webhooks add this gauge; the rules and the dashboard already watch it.


def tool(name: str) -> str:
    """The validator's path: on PATH, or beside this Python (a venv's PyPI tools)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed (.ci/run installs it; see docs/deploy.md)")
    return found


def run(*command: str, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, **options)


def passes(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0


def test_it_lints_the_dockerfile_with_hadolint() -> None:
    dockerfile = DEPLOY / "docker" / "Dockerfile"
    result = run(tool("hadolint"), "--failure-threshold", "info", str(dockerfile))
    assert passes(result), result.stdout + result.stderr
    text = dockerfile.read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2  # build stage, then the slim runtime
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^USER 10001", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", text, re.M)
    assert re.search(r'^CMD \["pager", "serve"', text, re.M)


def units_with_a_real_pager(tmp_path: Path) -> Path:
    """deploy/systemd with ExecStart pointing at this venv's `pager`: systemd-analyze refuses a
    unit whose program does not exist, and /opt/pager is where the image and docs put it."""
    here = tmp_path / "units"
    shutil.copytree(DEPLOY / "systemd", here, ignore=shutil.ignore_patterns("*.yaml"))
    pager = Path(sys.executable).parent / "pager"
    assert pager.exists()
    for unit in UNITS:
        path = here / unit
        text = path.read_text()
        assert "ExecStart=/opt/pager/bin/pager " in text
        path.write_text(text.replace("/opt/pager/bin/pager", str(pager)))
    return here


def test_it_verifies_the_systemd_units_with_their_drop_ins(tmp_path: Path) -> None:
    units = units_with_a_real_pager(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "SYSTEMD_UNIT_PATH": f"{units}:", "SYSTEMD_LOG_COLOR": "0"}
    result = run(tool("systemd-analyze"), "verify", *UNITS, cwd=units, env=env)
    # verify exits 0 on an unknown or misspelt key, but says so: any word from it is a problem.
    assert passes(result) and not result.stdout + result.stderr, result.stdout + result.stderr
    # The shared drop-ins apply (pager-.service.d): without them each unit would run as root,
    # exposed "UNSAFE" (9+); with them the offline security audit scores each below 2.
    for unit in UNITS:
        audit = run(
            tool("systemd-analyze"),
            "security",
            "--offline=yes",
            "--threshold=20",  # out of 100: exposure 2.0
            "--no-pager",
            unit,
            cwd=units,
            env=env,
        )
        assert passes(audit), audit.stdout + audit.stderr
        assert "DynamicUser=" in audit.stdout and "✗ DynamicUser=" not in audit.stdout


def test_it_validates_the_kubernetes_manifests() -> None:
    files = sorted((DEPLOY / "kubernetes").rglob("*.yaml"))
    assert {f.name for f in files} >= {"web.yaml", "worker.yaml", "migrate-job.yaml", "config.yaml"}
    result = run(tool("kubernetes-validate"), "--strict", "--quiet", *map(str, files))
    assert passes(result), result.stdout + result.stderr
    kinds = {
        (doc["kind"], doc["metadata"]["name"])
        for f in files
        for doc in yaml.safe_load_all(f.read_text())
    }
    assert {
        ("Deployment", "pager-web"),
        ("Deployment", "pager-worker"),
        ("Service", "pager-web"),
        ("PodDisruptionBudget", "pager-web"),
        ("PodDisruptionBudget", "pager-worker"),
        ("Job", "pager-db-upgrade"),
        ("ConfigMap", "pager-config"),
        ("ConfigMap", "pager-rotations"),
    } <= kinds


def test_it_checks_and_unit_tests_the_alert_rules_with_promtool() -> None:
    promtool = tool("promtool")
    rules = DEPLOY / "prometheus"
    checked = run(promtool, "check", "rules", str(rules / "alerts.yaml"))
    assert passes(checked), checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "alerts.test.yaml", cwd=rules)
    assert passes(tested), tested.stdout + tested.stderr
    alerts = {
        r["alert"]
        for g in yaml.safe_load((rules / "alerts.yaml").read_text())["groups"]
        for r in g["rules"]
    }
    proven = set(
        re.findall(
            r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels",
            (rules / "alerts.test.yaml").read_text(),
        )
    )
    assert alerts == proven  # every alert has a test in which it fires


def test_it_checks_the_compose_stacks_prometheus_and_alertmanager_configs(tmp_path: Path) -> None:
    # As compose mounts them: prometheus.yml beside rules/pager.yaml (alerts.yaml).
    shutil.copy(DEPLOY / "docker" / "prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / "rules").mkdir()
    shutil.copy(DEPLOY / "prometheus" / "alerts.yaml", tmp_path / "rules" / "pager.yaml")
    checked = run(tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml"))
    assert passes(checked), checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout + checked.stderr
    am = run(tool("amtool"), "check-config", str(DEPLOY / "docker" / "alertmanager.yml"))
    assert passes(am), am.stdout + am.stderr


def test_it_lints_every_deploy_yaml_file_with_yamllint() -> None:
    result = run(tool("yamllint"), "--strict", "-c", str(DEPLOY / ".yamllint.yaml"), str(DEPLOY))
    assert passes(result), result.stdout + result.stderr


def test_it_validates_the_compose_file_against_the_compose_specification() -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    compose = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text())
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(compose)
    ]
    assert problems == []
    assert set(compose["services"]) == {
        "postgres",
        "migrate",
        "web",
        "worker",
        "alertmanager",
        "prometheus",
    }


def test_it_validates_the_compose_file_with_docker_compose(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or not passes(run(docker, "compose", "version")):
        pytest.skip(
            "no `docker compose` here (Docker's plugin, not in Debian): the schema test ran"
        )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "POSTGRES_PASSWORD": "x",
        "PAGER_API_TOKEN": "x",
        "PAGER_ALERTMANAGER_TOKEN": "x",
    }
    result = run(
        docker,
        "compose",
        "-f",
        str(DEPLOY / "docker" / "compose.yaml"),
        "config",
        "--quiet",
        env=env,
    )
    assert passes(result), result.stdout + result.stderr


def secret_files(tmp_path: Path, *names: str) -> dict[str, str]:
    """An environment that hands pager each secret as a file (X_FILE), as the deploys do."""
    env = {}
    for name in names:
        path = tmp_path / name.lower()
        path.write_text(f"{name.lower()}-value\n")
        env[f"{name}_FILE"] = str(path)
    return env


def kubernetes_config() -> dict[str, dict[str, str]]:
    docs = yaml.safe_load_all((DEPLOY / "kubernetes" / "config.yaml").read_text())
    return {doc["metadata"]["name"]: doc["data"] for doc in docs}


@pytest.mark.parametrize(
    ("where", "secrets"),
    [
        ("docker", ["POSTGRES_PASSWORD", "PAGER_API_TOKEN", "PAGER_ALERTMANAGER_TOKEN"]),
        (
            "systemd",
            ["DATABASE_URL", "PAGER_API_TOKEN", "PAGER_ALERTMANAGER_TOKEN", "TWILIO_AUTH_TOKEN"],
        ),
        (
            "kubernetes",
            [
                "DATABASE_URL",
                "PAGER_API_TOKEN",
                "PAGER_ALERTMANAGER_TOKEN",
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
            ],
        ),
    ],
)
def test_it_reads_each_deploys_pager_yaml_with_its_secrets_from_files(
    tmp_path: Path, where: str, secrets: list[str]
) -> None:
    if where == "kubernetes":
        path = tmp_path / "pager.yaml"
        path.write_text(kubernetes_config()["pager-config"]["pager.yaml"])
        names = kubernetes_config()["pager-env"]
        # Every file the pods are told to read is a key of the Secret they mount.
        secret = yaml.safe_load((DEPLOY / "kubernetes" / "examples" / "secret.yaml").read_text())
        files = {
            v.removeprefix("/run/secrets/pager/") for k, v in names.items() if k.endswith("_FILE")
        }
        assert files == set(secret["stringData"])
        assert {k.removesuffix("_FILE") for k in names if k.endswith("_FILE")} == set(secrets)
    else:
        path = DEPLOY / where / "pager.yaml"
    env = secret_files(tmp_path, *secrets)
    if where != "docker":
        env["DATABASE_URL"] = "postgresql+psycopg://pager@db.example.com/pager"
        env.pop("DATABASE_URL_FILE")
    settings = load_settings(path, env)
    assert settings.api_tokens == ("pager_api_token-value",)
    assert settings.integrations["alertmanager"].token == "pager_alertmanager_token-value"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert str(settings.rotations) == "/etc/pager/rotations"


def test_it_hands_the_systemd_units_each_secret_as_a_credential_file() -> None:
    dropin = (DEPLOY / "systemd" / "pager-.service.d" / "20-credentials.conf").read_text()
    loaded = dict(re.findall(r"^LoadCredential=([\w-]+):(\S+)$", dropin, re.M))
    named = dict(re.findall(r"^Environment=(\w+)_FILE=%d/([\w-]+)$", dropin, re.M))
    assert set(named.values()) == set(loaded)
    settings = re.sub(r"#.*", "", (DEPLOY / "systemd" / "pager.yaml").read_text())
    used = set(re.findall(r"\$\{(\w+)\}", settings))
    assert used == set(named)  # every ${VAR} without a default has its credential


def test_it_ships_kubernetes_rotations_that_pager_check_accepts(tmp_path: Path) -> None:
    for name, text in kubernetes_config()["pager-rotations"].items():
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["check", "--strict", str(tmp_path)])
    assert result.exit_code == 0, result.output


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana" / "pager.json").read_text())
    return loaded


def dashboard_queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_it_keeps_the_dashboard_within_grafanas_schema() -> None:
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    # The SDK's models are generated from Grafana's dashboard schema and its panel plugins'
    # option schemas: a key they do not know is dropped, a wrong type refused, so the file
    # comes back unchanged only if all of it is in the schema.
    plugins.register_default_plugins()
    model = dashboard()
    again = json.loads(JSONEncoder(sort_keys=True).encode(Dashboard.from_json(model)))
    assert again == model
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))


def test_it_queries_only_promql_that_prometheus_parses(tmp_path: Path) -> None:
    # Grafana's own variables, given values, then each query as a recording rule for promtool.
    exprs = [
        e.replace("$__rate_interval", "5m").replace("$job", "pager") for e in dashboard_queries()
    ]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = run(tool("promtool"), "check", "rules", str(path))
    assert passes(result), result.stdout + result.stderr


def exported_names() -> set[str]:
    """The series names pager's metrics appear as in /metrics."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {
        family.name + suffix
        for family in metrics.REGISTRY.collect()
        for suffix in suffixes[family.type]
    }


def test_it_watches_only_metrics_pager_exports() -> None:
    rules = (DEPLOY / "prometheus" / "alerts.yaml").read_text()
    watched = set(re.findall(r"\bpager_\w+", rules + "\n".join(dashboard_queries())))
    assert watched - exported_names() == set()
    for gauge in (
        "pager_oldest_unsent_page_seconds",
        "pager_escalation_lag_seconds",
        "pager_runners",
        "pager_rotations_valid",
    ):
        assert gauge in watched
