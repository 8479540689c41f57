"""Results -> table rows: each figure beside its target (from issue 8) and, for throughput,
its ratio to the ceiling measured in the same run."""

from __future__ import annotations

from bench.burst import Slow
from bench.escalation import Escalation
from bench.ingest import Ingest
from bench.load import Throughput
from bench.paging import Paging
from bench.report import Latencies, Row, ms
from bench.sustained import LIMIT, Step, best

MEMORY_TARGET_MB = 150


def _rate(value: float, unit: str = "req/s") -> str:
    return f"{value:,.0f} {unit}" if value >= 10 else f"{value:,.1f} {unit}"


def _ratio(value: float, ceiling: float, name: str) -> str:
    return f"{value / ceiling:.2f} of {name}" if ceiling else "n/a"


def ingest_rows(result: Ingest) -> list[Row]:
    rows = []
    for alerts in sorted(result.bare):
        rows.append(
            Row(
                f"ceiling: bare Flask answering 200, {alerts}-alert body",
                _rate(result.bare[alerts].ok_per_second),
            )
        )
        rows.append(
            Row(
                f"ceiling: Flask + json.loads + 1 SQLite WAL insert (FULL), {alerts}-alert body",
                _rate(result.insert_full[alerts].ok_per_second),
            )
        )
    rows.append(
        Row(
            "ceiling: same, synchronous=NORMAL, 1-alert body",
            _rate(result.insert_normal.ok_per_second),
        )
    )
    rows.append(
        Row(
            "ceiling: raw SQLite autocommit insert loop (FULL)",
            _rate(result.raw_inserts_per_second, "rows/s"),
        )
    )
    for alerts, measured in sorted(result.pager.items()):
        insert = result.insert_full[alerts].ok_per_second
        value = measured.ok_per_second
        rows.append(
            Row(
                f"pager web: webhooks of {alerts} alert{'s' if alerts > 1 else ''}",
                _rate(value, "webhooks/s")
                + (f" ({_rate(value * alerts, 'alerts/s')})" if alerts > 1 else ""),
                f">= {_rate(insert / 2)} (half the insert ceiling)",
                f"{_ratio(value, insert, 'insert')}; "
                f"{_ratio(value, result.bare[alerts].ok_per_second, 'bare')}",
                value >= insert / 2 and not measured.failed,
                f"p50 {measured.p50_ms:,.0f} ms, p99 {measured.p99_ms:,.0f} ms"
                + (f"; {measured.failed} failed" if measured.failed else ""),
            )
        )
    return rows


def _latency_rows(what: str, samples: Latencies, target: float | None, note: str) -> list[Row]:
    return [
        Row(f"{what} p50", samples.text(50), note=note),
        Row(
            f"{what} p99",
            samples.text(99),
            f"< {ms(target)}" if target else "",
            met=None if target is None else samples.under(99, target),
        ),
    ]


def paging_rows(result: Paging, *, ack: bool = False, backend: str = "sqlite") -> list[Row]:
    if ack:
        note = f"{len(result.ack)} signed ACK replies, one at a time"
        if result.ack_failed:
            note += f"; {result.ack_failed} not acknowledged"
        return _latency_rows("ack: signed reply -> acknowledged", result.ack, 0.100, note)
    storm_note = _storm_note(result)
    return [
        *_latency_rows(
            "webhook -> SMS at provider, idle",
            result.idle,
            0.250,
            f"{len(result.idle)} webhooks one at a time; "
            + (
                "pager worker polls SQLite every 0.5 s"
                if backend == "sqlite"
                else "web wakes the worker by NOTIFY"
            ),
        ),
        *_latency_rows("webhook -> SMS, during storm", result.storm, 1.0, storm_note),
        Row(
            "pages sent twice (same incident and person) so far",
            f"{result.duplicates:,}",
            "0",
            met=result.duplicates == 0,
            note="no crash before this point, so every repeat is a step sent twice",
        ),
    ]


def _storm_note(result: Paging) -> str:
    note = (
        f"{result.storm_alerts:,} alerts in {result.storm_incidents:,} webhooks "
        f"(16 in flight, {result.storm_webhooks_per_s:,.0f} webhooks/s accepted), "
        f"one new incident and person each"
    )
    if result.storm.missing or result.storm_rejected:
        note += (
            f"; {result.storm.missing} not paged {result.storm_wait:g} s after the last "
            f"webhook, {result.storm_rejected} webhooks refused"
        )
    return note


def sustained_rows(steps: list[Step]) -> list[Row]:
    top = best(steps)
    ladder = "; ".join(
        f"{s.rate:g}/s: p99 {s.latencies.text(99)}"
        + ("" if s.accepted == s.offered else f" ({s.offered - s.accepted} refused)")
        for s in sorted(steps, key=lambda s: s.rate)
    )
    return [
        Row(
            f"new incidents/s, each paging another person, SMS p99 < {LIMIT:g} s",
            _rate(top.rate, "incidents/s") if top else f"< {min(s.rate for s in steps):g}/s",
            ">= 100/s",
            met=top is not None and top.rate >= 100,
            note=f"open loop, {steps[0].seconds:g} s per step: {ladder}",
        )
    ]


def escalation_rows(result: Escalation) -> list[Row]:
    note = (
        f"{len(result.lags):,} step-2 calls measured with {result.open_incidents:,} incidents "
        f"open (asked for {result.requested_open:,}); deadline -> step run p99 "
        f"{result.run_lags.text(99)}"
    )
    if result.lags.missing or result.not_paged:
        note += f"; {result.lags.missing} calls not made in time, {result.not_paged} never paged"
    return [
        Row("escalation lag: deadline -> provider call p50", result.lags.text(50)),
        Row(
            "escalation lag: deadline -> provider call p99",
            result.lags.text(99),
            "< 1 s",
            met=result.lags.under(99, 1.0),
            note=note,
        ),
    ]


def restart_rows(result: Paging) -> list[Row]:
    note = (
        f"{result.restart_overdue:,} first steps overdue; worker exec -> runner started "
        f"{ms(result.restart_runner_up)}"
    )
    if result.restart.missing:
        note += (
            f"; {result.restart.missing} still unsent {result.restart_wait:g} s after the "
            "runner started"
        )
    return [
        Row(
            "restart: kill -9 worker, restart -> all overdue pages sent",
            result.restart.text(100),
            "< 2 s",
            met=result.restart.under(100, 2.0),
            note=note,
        )
    ]


def memory_rows(result: Paging, workers: int) -> list[Row]:
    processes = f"gunicorn master + {workers} workers + pager worker"
    rows = []
    for when, (rss, pss) in (("at rest", result.memory_rest), ("after storm", result.memory_storm)):
        rows.append(
            Row(
                f"memory {when}: PSS of web + worker",
                f"{pss:,.0f} MB",
                f"< {MEMORY_TARGET_MB} MB",
                met=pss < MEMORY_TARGET_MB,
                note=f"RSS {rss:,.0f} MB (shared pages counted in each process); {processes}"
                + (f"; start-up to ready {result.startup:.1f} s" if when == "at rest" else ""),
            )
        )
    return rows


def provider_ceiling_rows(ceiling: Throughput | None, delay: float) -> list[Row]:
    """The slow fake Twilio alone: SMS/s it takes, 256 calls at once, each answered late."""
    if ceiling is None:
        return []
    return [
        Row(
            f"ceiling: fake Twilio answering each call in {ms(delay)}, 256 calls at once",
            _rate(ceiling.ok_per_second, "SMS/s"),
            note=f"p50 {ceiling.p50_ms:,.0f} ms, p99 {ceiling.p99_ms:,.0f} ms; measured alone"
            + (f"; {ceiling.failed} failed" if ceiling.failed else ""),
        )
    ]


def slow_rows(result: Slow) -> list[Row]:
    """Figure 8 for one layout: the burst and the storm against the slow provider, beside the
    slow provider's own ceiling."""
    delay = ms(result.delay)
    ceiling = result.ceiling.ok_per_second if result.ceiling else 0.0
    rows = []
    if result.burst:
        b = result.burst
        note = (
            f"{b.incidents:,} new incidents, one person each, 64 webhooks in flight "
            f"({b.webhooks_per_s:,.0f} webhooks/s accepted)"
        )
        if b.latencies.missing or b.refused:
            note += (
                f"; {b.latencies.missing} not paged {b.wait:g} s after the last webhook, "
                f"{b.refused} webhooks refused"
            )
        rows.append(
            Row(
                f"{result.layout}: burst, pages/s, first webhook -> last SMS ({delay} provider)",
                _rate(b.pages_per_s, "pages/s"),
                ">= 200 pages/s",
                _ratio(b.pages_per_s, ceiling, "provider"),
                b.pages_per_s >= 200 and not b.latencies.missing,
                note,
            )
        )
        rows += _latency_rows(f"{result.layout}: burst, webhook -> SMS", b.latencies, None, "")
    if len(result.storm.storm):
        rows += _latency_rows(
            f"{result.layout}: webhook -> SMS, storm, {delay} provider",
            result.storm.storm,
            2.0,
            _storm_note(result.storm),
        )
    return rows
