"""What a server request costs in Python function calls (counted by cProfile), a figure that,
unlike requests/s on a shared machine, reruns the same: the app in process over SQLite, a stored
token, 500 requests of each kind after a warm-up.

    python benchmarks/bench_route_calls.py

Rows: ``/health`` (the middleware and the in-process client alone), get a version by stage (the
hottest read), and that read's store call alone; "route" is what the request spends beyond
``/health`` and the store call: the token check, the parameters, the answer.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import tempfile
from pathlib import Path

REQUESTS = 500


def _calls(run: object) -> int:
    profile = cProfile.Profile()
    profile.enable()
    run()  # type: ignore[operator]
    profile.disable()
    return pstats.Stats(profile).total_calls // REQUESTS  # type: ignore[attr-defined]


def main() -> None:
    import httpx

    from modelplane.config import load_settings
    from modelplane.metadata.sql.store import SqlMetadataStore
    from modelplane.server.app import create_app

    home = Path(tempfile.mkdtemp(prefix="mp-route-calls-"))
    settings = load_settings(env={"MODELPLANE_HOME": str(home), "MODELPLANE_CONFIG": str(home / "c")})
    store = SqlMetadataStore(settings.store_url)
    store.create_model("m")
    store.create_model_version("m")
    store.set_stage("m", 1, "production")
    _, secret = store.create_token("bench")
    app = create_app(settings, webhook_interval=None, reap_interval=None)
    stage = "/api/v1/models/m/versions/production"

    async def measure() -> dict[str, int]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
            for _ in range(100):
                assert (await c.get(stage)).status_code == 200
            found = {}
            for path in ("/health", stage):
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(REQUESTS):
                    await c.get(path)
                profile.disable()
                found[path] = pstats.Stats(profile).total_calls // REQUESTS  # type: ignore[attr-defined]
            return found

    found = asyncio.run(measure())
    alone = _calls(lambda: [store.get_model_version("m", "production") for _ in range(REQUESTS)])
    route = found[stage] - found["/health"] - alone
    print("| request | Python calls each |")
    print("|---|---:|")
    print(f"| `GET /health` (middleware and in-process client) | {found['/health']} |")
    print(f"| `GET {stage}` | {found[stage]} |")
    print(f"| its store call alone | {alone} |")
    print(f"| the route (token check, parameters, answer) | {route} |")


if __name__ == "__main__":
    main()
