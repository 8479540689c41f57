"""Latency of the paging loop in the real daemon, against the fake Twilio on 127.0.0.1.

    python -m bench.loop_latency [--rounds 50] [--database-url URL]

1. webhook -> SMS: from posting an Alertmanager webhook (a new incident each time) until the
   fake Twilio has the SMS request in hand.
2. reply -> acknowledged: from posting a signed `ACK <code>` reply until the daemon answers it
   (it answers after the acknowledgement is committed).
Prints median, p90 and worst in milliseconds. Nothing here asserts; the figures are the output.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.daemon import TWILIO_NUMBER, start_daemon
from tests.fakes.twilio import FakeTwilio
from tests.helpers import ALICE, payload


def _alert(i: int) -> dict:  # type: ignore[type-arg]
    body = payload("alertmanager_firing.json")
    body["groupKey"] = f"bench-{i}"
    body["alerts"] = [dict(body["alerts"][0], fingerprint=f"bench{i:011d}")]
    return body


def _summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[max(0, int(len(ms) * 0.9) - 1)]
    return (
        f"{name:<28} n={len(ms):<4} median={statistics.median(ms):7.1f} ms  "
        f"p90={p90:7.1f} ms  worst={ms[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir, FakeTwilio(auto_status=None) as twilio:
        # Every incident here pages the same person: lift the per-number limits, or all but
        # the first five pages would (rightly) wait for a digest.
        daemon = start_daemon(
            Path(workdir), twilio, args.database_url, extra_config="limits: {sms: [], voice: []}\n"
        )
        try:
            to_sms: list[float] = []
            codes: list[str] = []
            for i in range(args.rounds):
                started = time.perf_counter()
                response = daemon.post_alerts(_alert(i))
                response.raise_for_status()
                sms = twilio.wait_for_messages(i + 1, timeout=30)[i]
                to_sms.append(time.perf_counter() - started)
                codes.append(re.search(r"ACK (\d+)", sms["Body"]).group(1))  # type: ignore[union-attr]
            to_ack: list[float] = []
            inbound = f"{daemon.url}/providers/twilio/inbound"
            for code in codes:
                started = time.perf_counter()
                answer = twilio.send_inbound_sms(inbound, ALICE, TWILIO_NUMBER, f"ACK {code}")
                to_ack.append(time.perf_counter() - started)
                if "Acknowledged" not in answer.text:
                    sys.exit(f"reply was not an ack: {answer.text}")
        finally:
            daemon.stop()
    backend = (args.database_url or "sqlite").split(":")[0]
    print(f"paging loop latency ({backend}, {args.rounds} rounds, one at a time)")
    print(_summary("webhook -> SMS at provider", to_sms))
    print(_summary("reply -> acknowledged", to_ack))


if __name__ == "__main__":
    main()
