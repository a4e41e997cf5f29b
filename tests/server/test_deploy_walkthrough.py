"""docs/deploy.md's walk-through, "From nothing to a team server: SSO, two projects, a Ray worker",
run as written on one machine.

Every block of that section whose first line is ``# on <machine>`` runs in order with bash
(``-euo pipefail``), in a home folder of that machine's own; a block marked ``(keeps running`` is
started in the background in a process group of its own, waited for (the server's ``/ready``,
Ray's "Ray runtime started"), and stopped at the end: SIGTERM to its command, then SIGKILL to
whatever is left of its group (and to any process naming the Ray nodes' folder, which only this
test uses). The ``python`` block is saved as
``train.py`` on the CI runner. Each ``text`` block lists lines the block before it prints (``…``:
anything), found here in its output. The ``bash`` blocks are the ones the test does not run; each
must say so on its first line.

What stands in for the reader's site: the settings block's variables (its names are checked
against the ones set here), the ports 8237 and 6379, a private PostgreSQL database and role on the
server ``MODELPLANE_TEST_POSTGRES_URL`` names (dropped afterwards), a bucket in moto's S3 server, an
``oidc-provider-mock`` process as the identity provider, ``$BROWSER`` as a script that submits the
provider's form as Alice or Bob, and the CI token the admin's block printed as ``VISION_CI_TOKEN``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.server.live import free_port
from tests.server.oidc_provider import MockProvider
from tests.store.backends import POSTGRES_URL

pytestmark = [pytest.mark.ray, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TITLE = "## From nothing to a team server"
# The variables the section's settings block tells the reader to set; AWS_PROFILE is replaced by
# moto's endpoint and keys.
SITE = {
    "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "ARTIFACTS", "SERVER_URL",
    "ADMIN_TOKEN", "OIDC_ISSUER", "OIDC_CLIENT_SECRET", "RAY_HEAD", "RAY_AUTH_TOKEN", "AWS_PROFILE",
}  # fmt: skip
# The people at the identity provider: subject → claims. The walk-through's server maps
# vision-team to a role in vision and fraud-team to nothing: Bob's role comes from the admin.
PEOPLE = {
    "alice": {"email": "alice@example.com", "groups": ["vision-team"]},
    "bob": {"email": "bob@example.com", "groups": ["fraud-team"]},
}
# What the machines' browser does: sign in at the provider as argv[1], then follow the redirect
# to the loopback port of `modelplane login --sso` (as tests/server/test_sso.py does).
BROWSER = """
import sys, httpx
form = httpx.post(sys.argv[2], data={"sub": sys.argv[1]}, timeout=30)
httpx.get(form.headers["location"], timeout=30)
"""
# Read at import: the suite-wide autouse fixture clears MODELPLANE_* variables for each test. CI
# sets both, and then a missing PostgreSQL, psql or Ray fails the test instead of skipping it.
_NEEDS_POSTGRES = bool(os.environ.get("MODELPLANE_TEST_POSTGRES_URL"))
_NEEDS_RAY = "ray" in os.environ.get("MODELPLANE_TEST_ORCHESTRATORS", "").split(",")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
_MACHINE = re.compile(r"^# on (?:the |a |an )?([^(,:]+)")


@dataclass
class Block:
    lang: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def machine(self) -> str | None:
        found = _MACHINE.match(self.first_line) if self.lang == "sh" else None
        return found.group(1).strip() if found else None

    @property
    def keeps_running(self) -> bool:
        return "(keeps running" in self.first_line


def walkthrough() -> list[Block]:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split(TITLE, 1)[1].split("\n## ", 1)[0]
    return [Block(lang, body) for lang, body in _FENCE.findall(section)]


def _slug(machine: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", machine.lower()).strip("-")


def _printed(expected: str, output: str) -> None:
    """Each line of a ``text`` block is in ``output`` (spaces squeezed; ``…``: anything)."""
    squeezed = re.sub(r"[ \t]+", " ", output)
    for line in filter(None, (line.strip() for line in expected.splitlines())):
        pattern = ".*?".join(re.escape(re.sub(r"[ \t]+", " ", part)) for part in line.split("…"))
        assert re.search(pattern, squeezed), f"the doc says {line!r} is printed; got:\n{output}"


def _ray_port() -> int:
    """A free port outside Ray's worker range (10002-19999) and its fixed ports."""
    while True:
        port = free_port()
        if not 10000 <= port <= 20000 and port not in (52365, 8265):
            return port


def _pids_using(marker: str) -> list[int]:
    """Processes whose command line names ``marker`` (a folder made by this test)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


class Background:
    """A block that keeps running, in a process group of its own."""

    def __init__(self, script: str, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until(self, ready, what: str, timeout: float = 240) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not ready():
            tail = self.output()[-4000:]
            assert self.process.poll() is None, f"{what}: the block stopped\n{tail}"
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{tail}"
            time.sleep(0.3)

    def stop(self) -> None:
        """SIGTERM to the block's last command (bash ran it in its own place), as a process
        manager stops it: `ray start --block` then stops its node in seconds (SIGTERM to the
        whole group takes Ray half a minute); then SIGKILL to whatever is left of the group."""
        if self.process.poll() is None:
            targets = [self.process.pid]
            cmdline = Path(f"/proc/{self.process.pid}/cmdline").read_bytes().split(b"\0")[0]
            if cmdline.endswith(b"bash"):  # bash did not hand over: stop what it runs
                children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                targets = [int(pid) for pid in children.read_text().split()]
            for pid in targets:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)


def _admin_engine() -> sa.Engine:
    from modelplane.metadata.sql.engine import make_engine

    return make_engine(POSTGRES_URL)


def _execute(engine: sa.Engine, *statements: str) -> list[sa.Row]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        rows: list[sa.Row] = []
        for statement in statements:
            result = conn.execute(sa.text(statement))
            rows = list(result) if result.returns_rows else []
        return rows


def _drop_abandoned_roles(engine: sa.Engine) -> None:
    """Roles (and their databases) left by a killed run of this test: mp_walk_<pid>_<hex>."""
    listing = "SELECT rolname FROM pg_roles WHERE rolname LIKE 'mp\\_walk\\_%'"
    for (name,) in _execute(engine, listing):
        parts = name.split("_")
        if len(parts) != 4 or not parts[2].isdigit():
            continue
        try:
            os.kill(int(parts[2]), 0)
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue
        _drop(engine, name)


def _drop(engine: sa.Engine, name: str) -> None:
    """The walk-through's database and role (both called ``name``)."""
    _execute(
        engine, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{name}"'
    )


def _missing(what: str, required: bool) -> None:
    if required:
        pytest.fail(f"the walk-through needs {what}")
    pytest.skip(f"the walk-through needs {what}")


@pytest.fixture
def postgres() -> Iterator[sa.Engine]:
    """The PostgreSQL server the tests use, as its admin."""
    if importlib.util.find_spec("ray") is None:
        _missing("Ray: pip install 'modelplane[ray]'", _NEEDS_RAY)
    if shutil.which("psql") is None:
        _missing("psql (the PostgreSQL client)", _NEEDS_POSTGRES)
    engine = _admin_engine()
    try:
        _execute(engine, "SELECT 1")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        _missing(f"PostgreSQL at {POSTGRES_URL} ({exc})", _NEEDS_POSTGRES)
    yield engine
    engine.dispose()


def test_the_walkthrough_from_nothing_to_a_team_server(postgres: sa.Engine, tmp_path: Path) -> None:
    from tests.s3.moto_server import shared_moto

    pytest.importorskip("sklearn")
    blocks = walkthrough()
    # Every block the test does not run says so.
    assert blocks[0].lang == "bash"
    for block in blocks:
        if block.lang == "bash":
            assert block.first_line.startswith("# not run by the test"), block.first_line
        if block.lang == "sh":
            assert block.machine, f"a command block without '# on <machine>': {block.first_line}"
    # The settings block names exactly the variables set here.
    assert set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", blocks[0].text)) == SITE

    started = time.monotonic()
    admin_url = sa.make_url(POSTGRES_URL)
    name = f"mp_walk_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _drop_abandoned_roles(postgres)
    moto = shared_moto()
    bucket = moto.new_bucket()
    provider = MockProvider()
    server_port, ray_port = free_port(), _ray_port()
    ray_tmp = Path(f"/tmp/mpw-{uuid.uuid4().hex[:8]}")  # short: Ray puts unix sockets under it
    site = {
        "DB_HOST": admin_url.host or "127.0.0.1",
        "DB_PORT": str(admin_url.port or 5432),
        "DB_NAME": name,
        "DB_USER": name,
        "DB_PASSWORD": secrets.token_urlsafe(16),
        "ARTIFACTS": f"s3://{bucket}/modelplane",
        "SERVER_URL": f"http://127.0.0.1:{server_port}",
        "ADMIN_TOKEN": "admin-" + secrets.token_urlsafe(24),
        "OIDC_ISSUER": provider.url,
        "OIDC_CLIENT_SECRET": "client-secret-" + secrets.token_urlsafe(16),
        "RAY_HEAD": f"127.0.0.1:{ray_port}",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
    }
    browser_script = tmp_path / "browser.py"
    browser_script.write_text(BROWSER)
    extra: dict[str, dict[str, str]] = {
        "database host": {"PGUSER": admin_url.username or "postgres"}
        | ({"PGPASSWORD": admin_url.password} if admin_url.password else {}),
    }
    for sub in PEOPLE:
        # webbrowser waits for the browser command: it hands over and returns
        opener = tmp_path / f"browser-{sub}.sh"
        opener.write_text(f'#!/bin/sh\n"{sys.executable}" "{browser_script}" {sub} "$1" &\n')
        opener.chmod(0o755)
        extra[f"{sub}'s laptop"] = {"BROWSER": f"{opener} %s"}

    def environment(machine: str) -> tuple[dict[str, str], Path]:
        home = tmp_path / "machines" / _slug(machine)
        home.mkdir(parents=True, exist_ok=True)
        base = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("MODELPLANE_", "AWS_", "RAY_", "PG", "XDG_", "BROWSER"))
        }  # fmt: skip
        env = {
            **base, **site, **moto.env, **extra.get(machine, {}),
            "PATH": str(Path(sys.executable).parent) + os.pathsep + base.get("PATH", ""),
            "HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0",
        }  # fmt: skip
        if machine.startswith("Ray "):
            env["RAY_TMPDIR"] = str(ray_tmp / _slug(machine))
            Path(env["RAY_TMPDIR"]).mkdir(exist_ok=True)
        return env, home

    running: list[Background] = []
    printed: list[tuple[str, str]] = []  # (machine, output) of each block run in the foreground
    try:
        ray_tmp.mkdir()
        provider.start()
        for sub, claims in PEOPLE.items():  # who they are at the provider: email and groups
            httpx.put(f"{provider.url}/users/{sub}", json=claims, timeout=30).raise_for_status()
        last = ""  # what the last command block printed
        for index, block in enumerate(blocks):
            print(f"{time.monotonic() - started:6.1f} s  {block.lang:6} {block.first_line[:70]}")
            if block.lang == "text":
                _printed(block.text, last)
                continue
            if block.lang == "python":  # train.py, in the CI runner's checkout
                environment("CI runner")[1].joinpath("train.py").write_text(block.text)
                continue
            if block.lang != "sh":
                continue
            machine = block.machine
            assert machine is not None
            env, home = environment(machine)
            script = block.text.replace("8237", str(server_port)).replace("6379", str(ray_port))
            if block.keeps_running:
                log = tmp_path / f"{index:02d}-{_slug(machine)}.log"
                background = Background(script, env, home, log)
                running.append(background)
                if "modelplane server start" in script:
                    background.wait_until(lambda: _ready(site["SERVER_URL"]), "the server's /ready")
                else:
                    started_ray = lambda: "Ray runtime started" in background.output()  # noqa: E731
                    background.wait_until(started_ray, machine)
                last = ""
                continue
            code, stdout, stderr = _run(script, env, home)
            last = stdout + stderr
            assert code == 0, f"the block on {machine} failed:\n{script}\n--- output:\n{last}"
            printed.append((machine, last))
            if "token create" in script:  # the admin hands the secret to the CI system
                extra["CI runner"] = {"VISION_CI_TOKEN": stdout.strip().splitlines()[-1]}

        assert extra["CI runner"]["VISION_CI_TOKEN"].startswith("mp_")
        # Alice and Bob are each shown only their project.
        assert _listing(_of(printed, "alice's laptop")) == ["vision"]
        assert _listing(_of(printed, "bob's laptop")) == ["fraud"]
        # The server's JSON access log: Bob's request in vision was answered 403.
        server_log = running[0].output()
        assert "single sign-on with " + provider.url in server_log
        refused = r'"status": 403, [^\n]*"user": "bob@example.com"'
        assert re.search(refused, server_log), server_log[-4000:]
        # vision's bytes went to vision's folder of the bucket. (The steps ran on the worker: the
        # head has no CPUs.)
        keys = moto.keys(bucket, "modelplane/")
        assert keys and all(key.startswith("modelplane/projects/vision/") for key in keys), keys
    finally:
        for background in reversed(running):
            background.stop()
            print(f"{time.monotonic() - started:6.1f} s  stopped {background.log.name}")
        provider.stop()
        for pid in _pids_using(str(ray_tmp)):  # a Ray process that left its node's group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(ray_tmp, ignore_errors=True)
        _drop(postgres, name)
    assert not _pids_using(str(ray_tmp))
    print(f"the walk-through took {time.monotonic() - started:.0f} s")


def _run(script: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> tuple[int, str, str]:
    """A block in the foreground, in a process group of its own, all of it killed if it hangs."""
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"the block did not end within {timeout} s:\n{script}\n---\n{stdout}{stderr}")
    return process.returncode, stdout, stderr


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _of(printed: list[tuple[str, str]], machine: str) -> str:
    return "\n".join(output for name, output in printed if name == machine)


def _listing(output: str) -> list[str]:
    """The project names of ``modelplane project list``'s table(s) in ``output``."""
    lines = output.splitlines()
    names: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("NAME") and "MEMBERS" in line:
            for row in lines[index + 2 :]:
                if not row.startswith(("* ", "  ")):
                    break
                names.append(row[2:].split()[0])
    return names
