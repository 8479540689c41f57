"""Tables about people: one-time codes, dashboard sessions, personal API tokens, authenticator
apps, proven numbers, Verify's verifications, and the audit trail. Codes and tokens are kept
only as hashes (DESIGN invariant 8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pager.store.models import Base


class AuthCode(Base):
    """A one-time code pager texted (sign-in; later number proofs and Verify): only its keyed
    hash is kept (DESIGN invariant 8), with its expiry, wrong tries and use."""

    __tablename__ = "auth_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(20))  # sign_in | verify_number
    person: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))  # the number it went to (for its limits)
    digest: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 under the server's code key
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]  # too many wrong tries, or a newer code replaced it
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    # The outbox row that carries it; its text loses the code once the code is spent.
    notification_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_auth_codes_person", "purpose", "person", "created_at"),
        Index("ix_auth_codes_phone", "phone", "created_at"),
    )


class WebSession(Base):
    """A dashboard sign-in, kept server side so that it can be ended: the cookie holds a random
    token whose SHA-256 is `token_digest`."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    person: Mapped[str] = mapped_column(String(200), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute lifetime's end; idle time ends it sooner
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(200))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class AuditEntry(Base):
    """The audit trail: append-only, one row per change of state or sign-in event. Never a
    secret or a full phone number."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))  # a person's handle, a token's name, "pager"
    way: Mapped[str] = mapped_column(String(20))  # sms | voice | dashboard | api | cli | pager
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class PersonalToken(Base):
    """An API token a signed-in person made for themselves: shown once, kept as its SHA-256
    (it is 32 random bytes: no key is needed), revocable; the API's actor is its person."""

    __tablename__ = "personal_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class TotpSecret(Base):
    """A person's authenticator-app secret (RFC 6238). It must be read to check a code, so it
    cannot be hashed: the table is as sensitive as the database's other keys."""

    __tablename__ = "totp_secrets"

    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]  # enrolled once a code from the app checked
    last_step: Mapped[int] = mapped_column(Integer, default=0)  # a code works once
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class VerifiedNumber(Base):
    """A person proved they hold a number by answering a code sent to it. Kept per (person,
    number): a number changed in the rotations is unproven until its own code comes back."""

    __tablename__ = "verified_numbers"

    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    verified_at: Mapped[datetime]
    way: Mapped[str] = mapped_column(String(20))  # sms | dashboard


class Verification(Base):
    """One Verify verification (Twilio's `VE...`): a code for one number of one application's
    service. Only the code's keyed hash is kept (DESIGN invariant 8)."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)
    service_sid: Mapped[str] = mapped_column(String(34))
    phone: Mapped[str] = mapped_column(String(32))  # the E.164 number it verifies (`To`)
    channel: Mapped[str] = mapped_column(String(10))  # sms | call: how the newest code went
    # pending -> approved | canceled | max_attempts_reached (expired: expires_at has passed)
    status: Mapped[str] = mapped_column(String(30))
    digest: Mapped[str] = mapped_column(String(64))  # HMAC of the newest code sent
    wrong_tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # When the texts that carried its codes lost them (it can no longer be approved).
    forgotten_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_verifications_to", "service_sid", "phone", "created_at"),)


class VerificationSend(Base):
    """One code sent for a verification (Twilio's `send_code_attempts`), and its outbox row."""

    __tablename__ = "verification_sends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"), index=True)
    sid: Mapped[str] = mapped_column(String(34), unique=True)  # VL...
    channel: Mapped[str] = mapped_column(String(10))  # sms | call
    notification_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(index=True)
