"""Joining a Ray cluster, and deciding at run start whether its workers can reach our stores.

The rule (docs/deploy.md, "Which stores work with Ray"):

* Stores that live inside one process (``memory://`` artifacts, in-memory SQLite) never work.
* ``MODELPLANE_RAY_ADDRESS`` (or ``RayOrchestrator(address=...)``) names a cluster whose workers may
  run on other machines: an embedded SQLite store or a local artifact folder is refused.
* With no address, modelplane starts or joins a Ray on this machine (or uses the connection this
  process already made with ``ray.init``). When every node of that cluster is on this machine the
  workers share its file system, so SQLite and a local folder are allowed; as soon as one node is
  elsewhere the same refusal applies. A store URL naming loopback is refused then too.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from modelplane.client import Client
from modelplane.errors import ConfigError

__all__ = [
    "LOCAL_ADDRESSES",
    "check_process_local_stores",
    "connect",
    "nodes_elsewhere",
    "require_remote_reachable",
    "require_shared_stores",
]

# Addresses that mean "start or join a Ray on this machine" rather than "that cluster".
LOCAL_ADDRESSES = (None, "", "local")
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")

_SHARED_HINT = (
    "Set MODELPLANE_STORE_URL to a database (postgresql+psycopg://user@host/db) or a modelplane server "
    "(http://host:8237), and MODELPLANE_ARTIFACT_URI to s3://bucket/prefix, reachable from every Ray node "
    "(docs/deploy.md). To run on this machine only, leave MODELPLANE_RAY_ADDRESS unset."
)


def connect(address: str | None) -> None:
    """Connect this process to Ray unless it already is; ``None`` starts or joins a local Ray."""
    import ray

    if ray.is_initialized():
        _check_same_cluster(address)
        return
    _check_reachable(address)
    try:
        ray.init(address=address or None, log_to_driver=True)
    except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError from Ray
        where = f"the Ray cluster at {address!r}" if address not in LOCAL_ADDRESSES else "a local Ray"
        raise ConfigError(
            f"Could not start or join {where}: {type(exc).__name__}: {exc}",
            hint="Check MODELPLANE_RAY_ADDRESS (host:port of the head node, as printed by `ray start --head`) "
            "and that this machine can reach it; leave it unset to start a Ray on this machine.",
        ) from exc


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """A named ``host:port`` that does not answer fails now: Ray itself would retry for minutes."""
    if address in LOCAL_ADDRESSES or address == "auto":
        return
    host, _, port = str(address).split("://")[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"MODELPLANE_RAY_ADDRESS={address!r} is not a Ray address.",
            hint="Use host:port of the head node (e.g. 10.0.0.5:6379), ray://host:10001 for Ray Client, "
            "or leave it unset to start a Ray on this machine.",
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"No Ray cluster answers at MODELPLANE_RAY_ADDRESS={address} ({exc}).",
            hint="Start the head node with `ray start --head --port=6379`, or fix the address and check that "
            "this machine can reach that port; leave it unset to start a Ray on this machine.",
        ) from None


def _check_same_cluster(address: str | None) -> None:
    """This process already joined a cluster (its own ``ray.init``); refuse a different named one."""
    import ray

    if address in LOCAL_ADDRESSES or address == "auto" or "://" in str(address):
        return  # no address to compare (Ray client addresses name a proxy, not the GCS)
    try:
        connected = str(ray.get_runtime_context().gcs_address)
    except Exception:  # noqa: BLE001 - e.g. a Ray client connection has no GCS address to show
        return
    wanted_host, _, wanted_port = str(address).rpartition(":")
    host, _, port = connected.rpartition(":")
    same_host = wanted_host == host or host in _addresses_of(wanted_host)
    if wanted_port != port or not same_host:
        raise ConfigError(
            f"This process is already connected to the Ray cluster at {connected}, but MODELPLANE_RAY_ADDRESS "
            f"names {address}.",
            hint="Unset MODELPLANE_RAY_ADDRESS to use the current connection, or call ray.shutdown() before the run.",
        )


def _addresses_of(host: str) -> set[str]:
    if _is_loopback(host):
        return _this_machine()
    try:
        return set(socket.gethostbyname_ex(host)[2])
    except OSError:
        return set()


def _this_machine() -> set[str]:
    import ray

    found = {ray.util.get_node_ip_address()}
    try:
        found |= set(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return found


def _is_loopback(host: str | None) -> bool:
    return bool(host) and (host in _LOOPBACK_HOSTS or str(host).startswith("127."))


def nodes_elsewhere() -> list[str]:
    """Addresses of alive Ray nodes that are not this machine."""
    import ray

    here = _this_machine()
    found = {
        str(node.get("NodeManagerAddress"))
        for node in ray.nodes()
        if node.get("Alive") and not _is_loopback(node.get("NodeManagerAddress"))
    }
    return sorted(found - here)


def check_process_local_stores(client: Client) -> None:
    """Refuse stores no other process can see, whatever the cluster."""
    url = client.settings.store_url
    if url.startswith("sqlite") and (url.rstrip("/") in ("sqlite:", "sqlite:/") or ":memory:" in url or "mode=memory" in url):
        raise ConfigError(
            f"The metadata store {url!r} is an in-memory SQLite database, which Ray workers (other processes) "
            "cannot see.",
            hint="Use a SQLite file (sqlite:///path/store.db) on this machine, or " + _SHARED_HINT,
        )
    root = str(getattr(client.artifact_store, "root", ""))
    if root.startswith("memory://"):
        raise ConfigError(
            f"The artifact store {root!r} lives in this process's memory, which Ray workers cannot see.",
            hint="Set MODELPLANE_ARTIFACT_URI to a folder (on this machine only) or to s3://bucket/prefix.",
        )


def require_shared_stores(client: Client, why: str) -> None:
    """``ConfigError`` naming each setting Ray workers on other machines could not use."""
    settings = client.settings
    problems: list[str] = []
    if settings.store_url.startswith("sqlite"):
        problems.append(f"MODELPLANE_STORE_URL is an embedded SQLite file ({settings.store_url})")
    artifact_store = client.artifact_store
    if getattr(artifact_store, "is_local", False):
        source = "the server's artifact store" if settings.is_remote else "MODELPLANE_ARTIFACT_URI"
        problems.append(f"{source} is a folder on this machine ({artifact_store.root})")
    if problems:
        raise ConfigError(
            f"Ray workers cannot reach this run's stores: {'; '.join(problems)}. {why}",
            hint=_SHARED_HINT,
        )


def require_remote_reachable(client: Client, foreign: list[str]) -> None:
    """With nodes on other machines, a store URL naming loopback would reach the wrong host."""
    host = urlsplit(client.settings.store_url).hostname
    if _is_loopback(host):
        raise ConfigError(
            f"MODELPLANE_STORE_URL names {host}, but the Ray cluster has nodes on other machines "
            f"({', '.join(foreign)}), where {host} is the node itself.",
            hint="Use the database's or server's network name or address in MODELPLANE_STORE_URL.",
        )
