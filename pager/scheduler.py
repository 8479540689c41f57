"""The runner: wakes up (APScheduler timers, a nudge after a commit, a PostgreSQL NOTIFY) and
does what is due.

APScheduler never holds state we need: every deadline is a database column, so the timers
here are only alarms. A restarted runner reads the columns and carries on (DESIGN invariant 1).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from pager.domain import rates
from pager.domain.routing import names_carriers
from pager.flows import (
    canaries,
    carriers,
    dispatch,
    escalate,
    handoffs,
    send_answers,
    sign_in,
    webhooks,
)
from pager.flows.context import Pager, utcnow
from pager.flows.heartbeats import check_heartbeats
from pager.flows.rotations import load_rotations
from pager.flows.send_answers import Answer, SendJob
from pager.store import incidents, outbox, runners
from pager.store.wakeups import Listener

log = logging.getLogger(__name__)
HEARTBEAT = 1.0  # seconds; runners.DEAD_AFTER is three beats
# How often to look for handoffs (each look works out every rotation's shifts): handoffs
# come hours apart and a notice is still sent up to handoffs.CATCH_UP late.
HANDOFF_LOOK = timedelta(seconds=30)
# How often spent and expired one-time codes lose their text (sign-ins sweep them too).
CODE_SWEEP = timedelta(minutes=1)
CANARY_LOOK = timedelta(seconds=5)  # how often to look for canaries due or overdue


class Runner:
    """Runs due escalation steps and sends due notifications, in a thread of its own."""

    def __init__(self, pager: Pager, *, poll: float = 1.0, senders: int | None = None) -> None:
        self.pager = pager
        self.poll = poll
        self.id = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"
        self._nudge = threading.Event()
        self._stop = threading.Event()
        if senders is None:  # enough calls in flight to keep every account at its rate
            senders = rates.senders_for(p.rate for p in pager.settings.providers)
        self._senders = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="pager-send")
        self._recorder = Recorder(pager, self._recorded)
        self._free = senders
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="pager-runner", daemon=True)
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._listener = Listener(pager.db, self.wake)
        self._next_handoff_look: datetime | None = None
        self._next_code_sweep: datetime | None = None
        self._next_canary_look: datetime | None = None
        self._webhooks = WebhookSender(pager) if pager.settings.webhooks else None

    def start(self) -> None:
        host = socket.gethostname()[:200]
        with self.pager.db.transaction() as session:
            gone = runners.forget_gone(session, host, _process_exists)
            runners.register(session, self.id, host, os.getpid())
        if gone:
            log.warning("event=runners_gone runners=%s", ",".join(gone))
        self.pager.wake = self.wake
        self._scheduler.add_job(self.wake, "interval", seconds=self.poll, id="poll")
        self._scheduler.add_job(self._beat, "interval", seconds=HEARTBEAT, id="heartbeat")
        if names_carriers(self.pager.settings.routing):
            # In a scheduler thread, not the runner's: lookups take seconds, sends don't wait.
            self._scheduler.add_job(
                self._refresh_carriers,
                "interval",
                seconds=carriers.REFRESH_EVERY.total_seconds(),
                id="carriers",
                next_run_time=utcnow(),
            )
        self._scheduler.start()
        self._listener.start()
        self._recorder.start()
        self._thread.start()
        if self._webhooks is not None:
            self._webhooks.start()
        self.wake()
        log.info("event=runner_started runner=%s", self.id)

    def stop(self) -> None:
        self._stop.set()
        self._nudge.set()
        if self._webhooks is not None:
            self._webhooks.stop()
        self._scheduler.shutdown(wait=False)
        self._listener.stop()
        self._thread.join(timeout=10)
        self._senders.shutdown(wait=True, cancel_futures=False)
        self._recorder.stop()  # after the senders: their last answers are recorded first
        with self.pager.db.transaction() as session:
            runners.unregister(session, self.id)

    def wake(self) -> None:
        self._nudge.set()

    def _beat(self) -> None:
        try:
            with self.pager.db.transaction() as session:
                runners.beat(session, self.id)
        except Exception:
            log.exception("event=heartbeat_error runner=%s", self.id)

    def _refresh_carriers(self) -> None:
        try:
            carriers.refresh_carriers(self.pager, utcnow(), lambda: not self._stop.is_set())
        except Exception:  # a lookup never stops paging; the next refresh tries again
            log.exception("event=carrier_refresh_error")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._nudge.wait()
            self._nudge.clear()
            if self._stop.is_set():
                break
            try:
                self.run_once(utcnow())
            except Exception:  # the runner must outlive any one bad row or a database blip
                log.exception("event=runner_error")
                self._stop.wait(1.0)
                self._nudge.set()

    def run_once(self, now: datetime) -> None:
        check_heartbeats(self.pager, now)
        escalate.escalate_due(self.pager, now, rounds=1)  # then send; the next pass does more
        if self._next_handoff_look is None or now >= self._next_handoff_look:
            handoffs.queue_handoff_notices(self.pager, now)
            self._next_handoff_look = now + HANDOFF_LOOK
        if self._next_code_sweep is None or now >= self._next_code_sweep:
            sign_in.forget_spent_code_texts(self.pager, now)
            self._next_code_sweep = now + CODE_SWEEP
        if self.pager.settings.canaries and (
            self._next_canary_look is None or now >= self._next_canary_look
        ):
            canaries.time_out(self.pager, now)
            canaries.start_due(self.pager, now)
            self._next_canary_look = now + CANARY_LOOK
        self._send_due(now)
        self._alarm_at_next_deadline()

    def _send_due(self, now: datetime) -> None:
        """Claim what is due for the free senders, start the attempts together, and hand each
        to a sender; their answers go to the recorder."""
        with self._lock:
            free = self._free
        if not free:
            return
        claimed = dispatch.claim_due(self.pager, now, free, self.id)
        if not claimed:
            return
        jobs = dispatch.start(self.pager, claimed, utcnow())
        with self._lock:
            self._free -= len(jobs)
        for job in jobs:
            self._senders.submit(self._call, job)
        if len(jobs) < len(claimed):
            self.wake()  # some were settled without a send: a held page may free a digest

    def _call(self, job: SendJob) -> None:
        try:
            answer = send_answers.call(self.pager, job)
        except Exception:  # `call` catches providers' errors; this is our own bug
            log.exception("event=send_error notification=%d", job.notification_id)
            self._recorded(1)  # the page keeps its lease: claimed again when it runs out
            return
        self._recorder.put(answer)

    def _recorded(self, count: int) -> None:
        """`count` senders are free again: their answers are recorded (or given up on)."""
        with self._lock:
            self._free += count
        self.wake()

    def _alarm_at_next_deadline(self) -> None:
        with self._lock:
            busy = self._free == 0  # a sender finishing wakes us; no need to poll the outbox
        with self.pager.db.read() as session:
            times = [incidents.next_escalation_due(session)]
            if not busy:
                times.append(outbox.next_due(session))
        upcoming = [t for t in times if t is not None]
        if not upcoming:
            return
        when = max(min(upcoming), utcnow() + timedelta(milliseconds=50))
        self._scheduler.add_job(
            self.wake,
            "date",
            run_date=when,
            id="deadline",
            replace_existing=True,
            misfire_grace_time=None,
        )


class Recorder:
    """Records the senders' answers on a thread of its own, as many together as have come in
    (up to `batch`), in one transaction: a burst of pages answered at once costs a few commits.
    Each batch recorded frees its senders (`recorded(count)`)."""

    def __init__(self, pager: Pager, recorded: Callable[[int], None], *, batch: int = 200) -> None:
        self.pager = pager
        self._recorded = recorded
        self._batch = batch
        self._answers: queue.SimpleQueue[Answer | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="pager-recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Record what has come in, then stop."""
        self._answers.put(None)
        self._thread.join(timeout=30)

    def put(self, answer: Answer) -> None:
        self._answers.put(answer)

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._answers.get()
            answers = [first] if first is not None else []
            stopping = first is None
            while len(answers) < self._batch and not stopping:
                try:
                    more = self._answers.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    answers.append(more)
            if answers:
                self._record(answers)

    def _record(self, answers: list[Answer]) -> None:
        try:
            send_answers.record(self.pager, answers)
        except Exception:  # `record` logs its own; the pages keep their leases
            log.exception("event=record_error answers=%d", len(answers))
        finally:
            self._recorded(len(answers))


class WebhookSender:
    """Sends outgoing webhooks on threads of its own, so that a slow or dead receiver never
    holds up a page: a loop that claims due deliveries for free senders, every `poll`
    seconds or when a sender finishes."""

    def __init__(self, pager: Pager, *, poll: float = 1.0, senders: int = 4) -> None:
        self.pager = pager
        self.poll = poll
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="pager-webhook")
        self._free = senders
        self._lock = threading.Lock()
        self._nudge = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pager-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._nudge.set()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(utcnow())
            except Exception:  # a database blip: the next pass tries again
                log.exception("event=webhook_runner_error")
            self._nudge.wait(self.poll)
            self._nudge.clear()

    def run_once(self, now: datetime) -> None:
        with self._lock:
            free = self._free
        for delivery_id in webhooks.claim_due(self.pager, now, free) if free else ():
            with self._lock:
                self._free -= 1
            self._pool.submit(self._deliver, delivery_id)

    def _deliver(self, delivery_id: int) -> None:
        try:
            webhooks.deliver(self.pager, delivery_id, utcnow())
        except Exception:
            log.exception("event=webhook_error delivery=%d", delivery_id)
        finally:
            with self._lock:
                self._free += 1
            self._nudge.set()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


class RotationWatcher:
    """Reloads the rotation files when they change (and on demand: SIGHUP, the API). With a
    git repository (`rotations: {git: ...}`) it fetches the branch every `every` instead,
    the first time as it starts.

    Every process that pages or opens incidents runs one: `pager serve`, each `pager web`
    worker and `pager worker`. A set that does not validate never replaces the one in force.
    """

    def __init__(self, pager: Pager, *, interval: float = 2.0) -> None:
        self.pager = pager
        self._scheduler = BackgroundScheduler(timezone="UTC")
        git = pager.settings.rotations_git
        self.every = git.every.total_seconds() if git else interval

    def start(self) -> None:
        at_once = {"next_run_time": utcnow()} if self.pager.settings.rotations_git else {}
        self._scheduler.add_job(
            self.check, "interval", seconds=self.every, id="rotations", **at_once
        )
        self._scheduler.start()

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    def check(self) -> None:
        try:
            load_rotations(self.pager, utcnow(), force=False)
        except Exception:  # the watcher must keep watching
            log.exception("event=rotations_reload_error")

    def reload_now(self) -> None:
        """Reload from another thread (a signal handler must not do the work itself)."""
        self._scheduler.add_job(
            lambda: load_rotations(self.pager, utcnow()), id="reload-now", replace_existing=True
        )
