"""Tables. Every deadline the daemon acts on is a column here (DESIGN invariant 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pager.domain.states import IncidentState, PageState


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (stored naive UTC) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(200))
    integration: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=IncidentState.TRIGGERED)
    urgency: Mapped[str] = mapped_column(String(10), default="high", server_default="high")
    ack_code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    # The escalation policy as it was when the incident opened (DESIGN invariant 5).
    policy: Mapped[dict[str, Any] | None]
    # Index of the next step to run in the flattened (repeated) policy, and when it is due.
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    escalation_due_at: Mapped[datetime | None]
    # While a maintenance window holds its pages: when that window ends (`escalation_due_at`
    # is then the same instant, so the runner wakes for it and a restart keeps it).
    silenced_until: Mapped[datetime | None]
    # A test page (`pager page --test alice`): the handle of the one person it pages (0016).
    test_of: Mapped[str | None] = mapped_column(String(200))

    alerts: Mapped[list[Alert]] = relationship(back_populates="incident", order_by="Alert.id")

    __table_args__ = (
        Index("ix_incidents_open_group", "integration", "group_key", "status"),
        Index("ix_incidents_escalation_due", "status", "escalation_due_at"),
        Index("ix_incidents_ack_code", "ack_code", "status"),  # a new code is checked (0011)
        Index("ix_incidents_test_of", "test_of", "created_at"),  # a person's last test (0016)
        Index("ix_incidents_created", "created_at", "id"),  # the API's pages (0019)
    )


class Alert(Base):
    """One alert (Alertmanager fingerprint) attached to an incident."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    integration: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # firing | resolved
    name: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    generator_url: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="alerts")

    __table_args__ = (Index("ix_alerts_fingerprint", "integration", "fingerprint"),)


class Notification(Base):
    """The outbox: one page to one person on one channel. Written before any provider call."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None for a notice outside any incident (a handoff notice).
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(200))
    person_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | voice
    body: Mapped[str] = mapped_column(Text)
    # a PageState: pending -> sending -> sent -> delivered | answered | no_answer; or failed,
    # cancelled, skipped, digested (domain/states.PAGE_MOVES)
    status: Mapped[str] = mapped_column(String(20), default=PageState.PENDING)
    provider_index: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    # The runner sending it: when that runner stops beating, others take over before the lease ends.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    # When a provider took it; per-recipient limits count these.
    sent_at: Mapped[datetime | None]
    # Held back by a limit, then carried by this other notification's digest.
    digest_of: Mapped[int | None] = mapped_column(Integer)
    # Set on notices that must be queued once however many runners see them due
    # (`handoff:<rotation>:<person>:<shift start>`); the unique index is what makes it once.
    dedup_key: Mapped[str | None] = mapped_column(String(600), unique=True, index=True)
    # page | notice (handoff) | code (a one-time code: never held by a limit or digested)
    kind: Mapped[str] = mapped_column(String(10), default="page", server_default="page")
    # The providers that carry it, in failover order, decided at its first claim of a round
    # (`flows.routes.route_of`); None until then. `provider_index` points into it.
    route: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_phone_sent", "phone", "channel", "sent_at"),  # limits (0004)
    )


class Attempt(Base):
    """One try of one notification through one provider."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    provider: Mapped[str] = mapped_column(String(100))
    # Unguessable id in the callback URLs we give the provider.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # Our own id of this try, sent along where the provider keeps one (Vonage client-ref, Sinch
    # client_reference, MessageBird reference): after a timeout we ask the provider for it.
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    # an AttemptState: sending|queued|sent|delivered|failed|...; unknown: no answer in time, to
    # be looked up (domain/states.ATTEMPT_MOVES)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProviderSlot(Base):
    """When a provider account may send next (its rate), shared by every runner.

    A token bucket kept as one instant (see `pager.domain.rates`); a runner updates it, row
    locked, in the transaction that claims the send.
    """

    __tablename__ = "provider_slots"

    provider: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_free_at: Mapped[datetime]


class TimelineEntry(Base):
    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)


class SandboxMessage(Base):
    """Messages of the sandbox provider's pretend phones, both ways."""

    __tablename__ = "sandbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    number: Mapped[str] = mapped_column(String(32), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # out (to the phone) | in (from it)
    channel: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    provider_message_id: Mapped[str] = mapped_column(String(100))


class OptOut(Base):
    """Numbers that replied STOP: no SMS pages until START."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]


class ReplyEvent(Base):
    """Replies we answered, per sender: wrong codes (for lock-out) and auto-replies (loop guard)."""

    __tablename__ = "reply_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # wrong_code | auto_reply
    at: Mapped[datetime]

    __table_args__ = (Index("ix_reply_events_phone", "phone", "kind", "at"),)


class GeneratedSecret(Base):
    """Tokens the daemon made for itself when the configuration named none (quick start)."""

    __tablename__ = "generated_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class RotationSet(Base):
    """The last rotation files that validated: used when the files on disk are broken."""

    __tablename__ = "rotation_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[datetime]
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, Any]]


class Runner(Base):
    """A live escalation runner (`pager serve` / `pager worker`), beating every second."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class InboundMessage(Base):
    """Provider ids of inbound SMS already handled: a replayed webhook changes nothing."""

    __tablename__ = "inbound_messages"

    provider: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]


class Silence(Base):
    """A maintenance window for a service: alerts are stored and shown but page nobody."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service: Mapped[str] = mapped_column(String(200), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Heartbeat(Base):
    """A dead man's switch: when `due_at` passes with no beat, an incident opens."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_beat_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]  # None: missed, and its incident is open


class NumberLookup(Base):
    """What a provider's lookup last said of a paged number: its carrier routes its pages when
    `routing:` names carriers. Refreshed by the runner, never on the send path."""

    __tablename__ = "number_lookups"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    carrier: Mapped[str | None] = mapped_column(String(200))
    line_type: Mapped[str] = mapped_column(String(30))
    valid: Mapped[bool]
    source: Mapped[str] = mapped_column(String(100))  # the provider's name in pager.yaml
    looked_up_at: Mapped[datetime]


class ChangeEvent(Base):
    """A change to a service (a deploy, a config push) sent as a PagerDuty change event: shown
    beside the service's incidents, pages nobody."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str | None] = mapped_column(String(1024))
    happened_at: Mapped[datetime]  # the event's timestamp, else when we received it
    received_at: Mapped[datetime]
    links: Mapped[dict[str, Any]]  # {"links": [[href, text], ...]}
    custom_details: Mapped[dict[str, Any]]
    # SHA-256 of what was sent: the same event retried within a minute is stored once.
    digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_change_events_service", "service", "happened_at"),
        Index("ix_change_events_digest", "digest", "received_at"),
    )


class WebhookDelivery(Base):
    """The outbox of outgoing webhooks: one event for one receiver, written in the same
    transaction as the change it tells of; sent by a runner, retried with backoff for 24 h,
    in order per incident and receiver."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "webhook", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook: Mapped[str] = mapped_column(String(60))  # the entry's name in pager.yaml
    event: Mapped[str] = mapped_column(String(40))  # incident.acknowledged, sms.received...
    incident_id: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # `webhook-id`: msg_...
    body: Mapped[str] = mapped_column(Text)  # the JSON as sent, frozen at the event
    created_at: Mapped[datetime]
    # pending -> sending -> delivered, or failed (gave up after 24 h)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None]


class CanaryRun(Base):
    """One round trip of a canary: the SMS that left through `route` carrying `nonce`, and
    whether (and how soon) it came back through an inbound webhook."""

    __tablename__ = "canary_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canary: Mapped[str] = mapped_column(String(150), index=True)  # CanarySettings.key
    route: Mapped[str] = mapped_column(String(100))
    # Once per canary and period however many runners look: canary:<key>:<period number>.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    notification_id: Mapped[int | None] = mapped_column(Integer, index=True)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    # sent (on its way) -> ok (came back), or failed (not back by the deadline, or not sent)
    status: Mapped[str] = mapped_column(String(20), default="sent", index=True)
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None]  # the round trip's time, when it came back
    error: Mapped[str | None] = mapped_column(String(300))
