"""An asyncio load generator that posts Alertmanager webhooks and notes when each went out.

Run as a subprocess (`python -m bench.client < spec.json`), so that its work never shares a
GIL with the fake provider that timestamps arrivals. The spec (JSON on stdin):

    {"url": "http://127.0.0.1:PORT", "token": "...", "jobs": [[integration, key, alerts], ...],
     "rate": 100.0 | null, "concurrency": 16, "stop_at": 1800000000.0 | null}

With a `rate`, job i is due at start + i/rate whether or not earlier ones were answered (an
open loop: a slow server shows as latency, not as a lower offered rate) and its time is the
time it was due; without one, `concurrency` requests are kept in flight. Jobs not started by
`stop_at` (a time.time()) are left out. Prints one JSON list: [key, due, answered, status,
opened incident ids] per job sent, times from time.time().
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.payloads import KEY, template

Result = list[Any]


async def _post(
    session: aiohttp.ClientSession, spec: dict[str, Any], job: list[Any], due: float
) -> Result:
    name, key, alerts = job
    body = _templates(alerts).replace(KEY, key).encode()
    headers = {"Authorization": f"Bearer {spec['token']}", "Content-Type": "application/json"}
    try:
        async with session.post(
            f"{spec['url']}/integrations/{name}", data=body, headers=headers
        ) as response:
            answer = await response.read()
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        return [key, due, time.time(), f"error: {type(exc).__name__}", []]
    opened = json.loads(answer).get("opened", []) if status == 200 else []
    return [key, due, time.time(), status, opened]


_cache: dict[int, str] = {}


def _templates(alerts: int) -> str:
    if alerts not in _cache:
        _cache[alerts] = template(alerts)
    return _cache[alerts]


async def _open_loop(session: aiohttp.ClientSession, spec: dict[str, Any]) -> list[Result]:
    start = time.time() + 0.05
    in_flight = asyncio.Semaphore(spec["concurrency"])

    async def one(i: int, job: list[Any]) -> Result:
        due = start + i / spec["rate"]
        await asyncio.sleep(max(0.0, due - time.time()))
        async with in_flight:
            return await _post(session, spec, job, due)

    return list(await asyncio.gather(*(one(i, job) for i, job in enumerate(spec["jobs"]))))


async def _closed_loop(session: aiohttp.ClientSession, spec: dict[str, Any]) -> list[Result]:
    queue: asyncio.Queue[list[Any]] = asyncio.Queue()
    for job in spec["jobs"]:
        queue.put_nowait(job)
    results: list[Result] = []

    stop_at = spec.get("stop_at") or float("inf")

    async def worker() -> None:
        while not queue.empty() and time.time() < stop_at:
            job = queue.get_nowait()
            results.append(await _post(session, spec, job, time.time()))

    await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
    return results


async def run(spec: dict[str, Any]) -> list[Result]:
    connector = aiohttp.TCPConnector(limit=spec["concurrency"])
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 60))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        if spec.get("rate"):
            return await _open_loop(session, spec)
        return await _closed_loop(session, spec)


def main() -> None:
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
