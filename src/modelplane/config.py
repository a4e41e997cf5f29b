"""Where modelplane keeps its data, read only when ``load_settings()`` is called.

The nearest explicit setting wins. Highest first: explicit arguments, ``MODELPLANE_*`` environment
variables, the nearest ``.modelplane/`` folder walking up from the working directory (made by
``modelplane init``), the user's config file (written by ``modelplane login``), and finally the
user's data directory. So a saved login never sends a project's runs, or those of a
``MODELPLANE_HOME``, to the team store: it applies where nothing nearer chose a store.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Mapping

from modelplane.errors import ConfigError, InvalidInputError

__all__ = [
    "DEFAULT_PROJECT",
    "PROJECT_DIR_NAME",
    "Settings",
    "StepSettings",
    "check_artifact_uri",
    "check_project_name",
    "default_store_url",
    "find_project_dir",
    "load_settings",
    "project_artifact_uri",
    "project_sqlite_path",
    "save_user_config",
    "user_config_path",
]

PROJECT_DIR_NAME = ".modelplane"
# The project everything belongs to unless another is chosen; a local store has only this one
# until ``modelplane project create`` makes another.
DEFAULT_PROJECT = "default"
# A project name becomes part of a database schema, a database or a file name (see
# ``metadata/sql/projects.py``), so it is kept to what all of those take unquoted.
_PROJECT_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_SCHEMES = ("sqlite", "postgresql", "mysql", "mariadb", "http", "https")


@dataclasses.dataclass(frozen=True)
class Settings:
    home: Path
    store_url: str
    artifact_uri: str
    api_token: str | None = None
    orchestrator: str = "local"
    ray_address: str | None = None
    actor: str | None = None
    # How often a running pipeline tells the store it is alive (MODELPLANE_HEARTBEAT_SECONDS).
    heartbeat_seconds: float = 30.0
    # What a pipeline call tells on the console (MODELPLANE_LOGGING_VERBOSITY): quiet, info or
    # debug; None says "info on a terminal or in a notebook, quiet otherwise".
    logging_verbosity: str | None = None
    # Why the store is the one it is, in words (``modelplane status`` shows it), and whether that
    # is the local store of a folder (a project, MODELPLANE_HOME or the user data directory).
    store_source: str = "given"
    store_is_local_default: bool = False
    # A saved login that a nearer setting overrides here: its store URL (``status`` says so).
    unused_login: str | None = None
    # The project calls act in (``--project``, MODELPLANE_PROJECT, ``modelplane project use``),
    # and why it is that one.
    project: str = "default"
    project_source: str = "the default"

    @property
    def is_remote(self) -> bool:
        return self.store_url.startswith(("http://", "https://"))

    def where_to_look(self, run_name: str) -> str:
        """Where to see a run: its dashboard page when the store is a server, else the command."""
        if self.is_remote:
            from urllib.parse import quote

            return f"{self.store_url.rstrip('/')}/#/runs/{quote(run_name, safe='')}"
        return f"modelplane run describe {run_name}"

    def with_overrides(self, **changes: object) -> "Settings":
        given = {k: v for k, v in changes.items() if v is not None}
        if "store_url" in given and given["store_url"] != self.store_url:
            given.setdefault("store_source", "given on the command line")
            given.setdefault("store_is_local_default", False)
        return dataclasses.replace(self, **given)


def find_project_dir(start: Path) -> Path | None:
    """The nearest ``.modelplane/`` folder at or above ``start``, like git finds ``.git``."""
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("MODELPLANE_CONFIG"):
        return Path(env["MODELPLANE_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_dir("modelplane")) / "config.json"


def _read_user_config(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The modelplane config file {path} cannot be read ({exc}).",
            hint="Fix or delete it, then run `modelplane login` again.",
        ) from None
    return {k: str(v) for k, v in data.items() if isinstance(v, (str, int))}


def save_user_config(values: Mapping[str, str | None], env: Mapping[str, str] | None = None) -> Path:
    """Merge ``values`` into the user's config file (``None`` removes a key)."""
    path = user_config_path(env)
    current = _read_user_config(path)
    for key, value in values.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def _login_name() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (some containers)
        return None


def _check_store_url(url: str) -> str:
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if "://" not in url or scheme not in _SCHEMES:
        raise ConfigError(
            f"The store URL {url!r} is not one modelplane can use.",
            hint="Use sqlite:///path/to/store.db, postgresql+psycopg://user@host/db, "
            "mysql+pymysql://user@host/db or http(s)://server:port.",
        )
    return url


# Artifact URL protocols accepted without importing fsspec (~150 ms) to look the others up.
_COMMON_PROTOCOLS = frozenset(
    {"file", "local", "memory", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl"}
)


def check_artifact_uri(uri: str) -> str:
    """``uri`` if it is a local path or a URL whose protocol fsspec knows; else a clear error."""
    if "://" not in uri and "::" not in uri:
        return uri
    protocols = [part.split("://", 1)[0].lower() for part in uri.split("::")]
    unknown = [p for p in protocols if p not in _COMMON_PROTOCOLS]
    if unknown:
        from fsspec.registry import known_implementations, registry

        unknown = [p for p in unknown if p not in known_implementations and p not in registry]
    if unknown:
        raise ConfigError(
            f"The artifact store URI {uri!r} uses the protocol {unknown[0]!r}, which neither "
            "modelplane nor fsspec knows.",
            hint="Set MODELPLANE_ARTIFACT_URI (or --artifact-uri) to a local folder, file:///path, "
            "s3://bucket/prefix (with pip install 'modelplane[s3]') or another fsspec protocol "
            "(gs://, az://, … with the fsspec package that provides it).",
        )
    return uri


def default_store_url(home: Path) -> str:
    """The SQLite store in ``home``, used when nothing names another (its folder is created)."""
    return f"sqlite:///{home / 'store.db'}"


def load_settings(
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: str | None,
) -> Settings:
    """Read settings from the environment, the user config file and the project folder."""
    env = os.environ if env is None else env
    user = _read_user_config(user_config_path(env))
    project = None
    if env.get("MODELPLANE_HOME"):
        home = Path(env["MODELPLANE_HOME"]).expanduser()
        folder = "MODELPLANE_HOME is set"
    else:
        project = find_project_dir((cwd or Path.cwd()).resolve())
        if project is not None:
            home = project
            folder = f"project folder {project} (found walking up from the working directory)"
        else:
            import platformdirs

            home = Path(platformdirs.user_data_dir("modelplane"))
            folder = "the user data directory (no .modelplane/ here or above; `modelplane init` makes one)"
    # A saved login counts only where no MODELPLANE_HOME or project folder chose a store.
    nearer = bool(env.get("MODELPLANE_HOME")) or project is not None
    login = {} if nearer else user
    unused_login = user.get("store_url") if nearer and user.get("store_url") else None
    if overrides.get("store_url"):
        store_url, source = str(overrides["store_url"]), "given on the command line"
    elif env.get("MODELPLANE_STORE_URL"):
        store_url, source = env["MODELPLANE_STORE_URL"], "MODELPLANE_STORE_URL is set"
    elif login.get("store_url"):
        store_url = login["store_url"]
        source = f"the user config file {user_config_path(env)} (written by `modelplane login`)"
    else:
        store_url, source = default_store_url(home), folder
    if unused_login == store_url:
        unused_login = None
    # The login's token and artifact location go with its store, wherever that store was named.
    with_login = user if user.get("store_url") == store_url else login
    artifact_uri = (
        overrides.get("artifact_uri")
        or env.get("MODELPLANE_ARTIFACT_URI")
        or with_login.get("artifact_uri")
        or str(home / "artifacts")
    )
    project, project_source = _project(overrides, env, user, store_url)
    return Settings(
        home=home,
        store_url=_check_store_url(store_url),
        artifact_uri=check_artifact_uri(artifact_uri),
        api_token=overrides.get("api_token")
        or env.get("MODELPLANE_API_TOKEN")
        or with_login.get("api_token"),
        orchestrator=overrides.get("orchestrator") or env.get("MODELPLANE_ORCHESTRATOR") or "local",
        ray_address=overrides.get("ray_address") or env.get("MODELPLANE_RAY_ADDRESS"),
        actor=env.get("MODELPLANE_ACTOR") or env.get("USER") or _login_name(),
        heartbeat_seconds=_heartbeat_seconds(env.get("MODELPLANE_HEARTBEAT_SECONDS")),
        logging_verbosity=_verbosity(env.get("MODELPLANE_LOGGING_VERBOSITY")),
        store_source=source,
        store_is_local_default=source == folder,
        unused_login=unused_login,
        project=project,
        project_source=project_source,
    )


def _project(
    overrides: Mapping[str, str | None],
    env: Mapping[str, str],
    user: Mapping[str, str],
    store_url: str,
) -> tuple[str, str]:
    """The project chosen, and by what: ``--project``, then MODELPLANE_PROJECT, then the one
    ``modelplane project use`` saved for this store; ``default`` otherwise."""
    if overrides.get("project"):
        found, source = str(overrides["project"]), "given on the command line"
    elif env.get("MODELPLANE_PROJECT"):
        found, source = env["MODELPLANE_PROJECT"], "MODELPLANE_PROJECT is set"
    elif user.get("project") and user.get("project_store_url") == store_url:
        found, source = user["project"], "chosen with `modelplane project use`"
    else:
        return DEFAULT_PROJECT, "the default"
    if not _PROJECT_NAME.fullmatch(found):
        raise ConfigError(f"The project {found!r} ({source}) is not a project name.", hint=_NAMES)
    return found, source


VERBOSITIES = ("quiet", "info", "debug")


def _verbosity(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    value = raw.strip().lower()
    if value not in VERBOSITIES:
        raise ConfigError(
            f"MODELPLANE_LOGGING_VERBOSITY={raw!r} is not one of {', '.join(VERBOSITIES)}.",
            hint="Use quiet (nothing), info (the run, its steps and where to look) or debug; "
            "leave it unset for info on a terminal and quiet otherwise.",
        )
    return value


def _heartbeat_seconds(raw: str | None) -> float:
    if not raw:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.05 <= value <= 3600:
        raise ConfigError(
            f"MODELPLANE_HEARTBEAT_SECONDS={raw!r} is not a number of seconds from 0.05 to 3600.",
            hint="Leave it unset for the default of 30 s.",
        )
    return value


@dataclasses.dataclass(frozen=True)
class StepSettings:
    """Per-step execution settings that orchestrators honour (Ray uses the resources)."""

    num_cpus: float | None = None
    num_gpus: float | None = None
    memory: int | None = None  # bytes
    orchestrator_options: dict[str, object] = dataclasses.field(default_factory=dict)


_NAMES = (
    "Use 1 to 40 lowercase letters, digits and '-', starting with a letter (e.g. 'vision' or "
    "'fraud-2026')."
)


def check_project_name(name: object) -> str:
    """A valid project name (lowercase letters, digits and ``-``, starting with a letter, at most
    40 characters), or a clear error."""
    if not isinstance(name, str) or not _PROJECT_NAME.fullmatch(name):
        raise InvalidInputError(
            f"{name!r} is not a project name.",
            hint=_NAMES,
        )
    return name


def project_sqlite_path(path: str, project: str) -> str:
    """Where the SQLite store at ``path`` keeps ``project``: the file itself for ``default``,
    ``<folder>/<stem>.projects/<project>.db`` beside it for any other."""
    if project == DEFAULT_PROJECT:
        return path
    folder, _, file_name = path.rpartition("/")
    stem = file_name[:-3] if file_name.endswith(".db") else file_name
    return f"{folder}/{stem}.projects/{project}.db" if folder else f"{stem}.projects/{project}.db"


def project_artifact_uri(root: str, project: str) -> str:
    """Where ``project``'s artifact bytes go under the artifact root ``root``: the root itself
    for ``default``, its folder ``projects/<project>`` for any other (so pruning one project never
    sees another's folders, and a server serves each project only its own)."""
    if project == DEFAULT_PROJECT:
        return root
    return f"{root.rstrip('/')}/projects/{project}"
