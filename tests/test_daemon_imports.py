"""What a daemon at rest keeps imported: not the migration tool, the rarely run commands, the
other database's dialect, or what only a first send, webhook or enrolment needs. Each case
runs in a fresh interpreter, as `pager serve` starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROTATIONS = Path(__file__).parent.parent / "rotations"

# What `pager serve` does before it serves: the command line, the migration, the wiring.
START_LIKE_SERVE = """
import sys
from pathlib import Path
from pager.cli import main
from pager.cli.serve import migrate, settings_from
from pager.app import build_pager
from pager.web import create_app
config = Path(sys.argv[1]) if sys.argv[1] else None
settings = settings_from(config, "127.0.0.1:18089")
migrate(settings)
create_app(build_pager(settings, migrate=False))
print(sorted({m for m in sys.modules for unused in sys.argv[2:] if m.startswith(unused)}))
"""
NEVER_AT_REST = [
    "alembic",
    "mako",
    "pager.importers",
    "pager.cli.simulate",
    "pager.cli.database",
    "sqlalchemy.dialects.postgresql",
    "qrcode",
]


def loaded_at_rest(workdir: Path, config: Path | None, modules: list[str]) -> str:
    ran = subprocess.run(
        [sys.executable, "-c", START_LIKE_SERVE, str(config or ""), *modules],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.splitlines()[-1]


def test_it_starts_the_quick_start_daemon_without_what_it_never_uses(tmp_path: Path) -> None:
    (tmp_path / "rotations").symlink_to(ROTATIONS)
    assert loaded_at_rest(tmp_path, None, [*NEVER_AT_REST, "requests"]) == "[]"


def test_it_loads_twilio_s_api_only_when_it_first_sends(tmp_path: Path) -> None:
    config = tmp_path / "pager.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'pager.db'}\n"
        f"rotations: {ROTATIONS}\n"
        "providers:\n"
        "  - name: twilio\n"
        "    type: twilio\n"
        "    account_sid: AC00000000000000000000000000000000\n"
        "    auth_token: not-a-real-token\n"
        '    from: "+15005550006"\n'
        "    api_base_url: http://127.0.0.1:9\n"
    )
    assert loaded_at_rest(tmp_path, config, [*NEVER_AT_REST, "twilio.rest.api"]) == "[]"


def test_it_still_lists_and_runs_the_commands_it_imports_late(tmp_path: Path) -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "pager", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    commands = [line.split()[0] for line in listed.split("Commands:\n")[1].splitlines()]
    assert {"backup", "db", "import", "simulate"} <= set(commands)
    assert commands == sorted(commands)
    told = subprocess.run(
        [sys.executable, "-m", "pager", "db", "current"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (told.returncode, told.stderr) == (
        1,
        "Error: no database at pager.db (the daemon makes it when it starts)\n",
    )


def test_it_starts_the_worker_without_the_web(tmp_path: Path) -> None:
    (tmp_path / "rotations").symlink_to(ROTATIONS)
    script = (
        "import sys\n"
        "from pager.cli import main\n"
        "from pager.cli.serve import migrate, settings_from\n"
        "from pager.app import build_pager\n"
        "from pager.scheduler import Runner\n"
        "settings = settings_from(None, None)\n"
        "migrate(settings)\n"
        "Runner(build_pager(settings, migrate=False, durable=False))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert (ran.returncode, ran.stdout.splitlines()[-1:]) == (0, ["[]"]), ran.stderr
