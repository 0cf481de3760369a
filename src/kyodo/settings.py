"""Settings from a TOML file (`KYODO_CONFIG`) and `KYODO_*` environment variables (which win)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every setting Kyodo reads; each is also `KYODO_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KYODO_", extra="forbid")

    config: Path | None = Field(default=None, description="TOML file with these settings.")
    database_url: str = Field(
        default="sqlite+aiosqlite:///./kyodo.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://…",
    )
    host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    port: int = Field(default=8000, ge=1, le=65535, description="HTTP port.")
    scheme_dirs: list[Path] = Field(
        default_factory=list, description="Extra folders of marking scheme TOML files."
    )
    default_policy: str = Field(default="USA", description="Scheme tried first for markings.")
    guard_rules_file: Path | None = Field(
        default=None, description="Spillage guard rules TOML; default: the shipped rules"
    )
    session_hours: float = Field(default=12.0, gt=0, description="Login session lifetime.")
    token_days: float = Field(
        default=30.0, gt=0, description="Lifetime of a new API token unless its creator asks less."
    )
    token_max_days: float = Field(
        default=365.0, gt=0, description="No API token lives longer (creators may not ask more)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body (every route, forms too) and WebSocket frame; larger "
        "is refused with 413 before it is read.",
    )
    file_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest file or data package a TAK client or person may upload (the upload "
        "routes' body limit; every other route keeps max_body_bytes).",
    )
    cookie_secure: bool = Field(
        default=False, description="Mark cookies Secure (set true behind HTTPS)."
    )
    login_max_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed logins on one account before 429 for that account from that address, "
        "and from every address it has not logged in from lately (per window).",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one address before 429 there, except for accounts that "
        "logged in from it lately.",
    )
    login_failure_window_seconds: int = Field(
        default=900, ge=1, description="The sliding window for failed logins."
    )
    retention_floor_days: int = Field(
        default=365, ge=1, description="No net keeps messages for less (records retention)."
    )
    read_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long sessions, people and memberships read from the database are reused "
        "(0: never); changes made on another instance show within this time.",
    )
    track_history: int = Field(
        default=1000, ge=1, description="Positions kept per track for replay (the newest)."
    )
    ws_deflate: bool = Field(
        default=False,
        description="Offer permessage-deflate on the WebSocket stream. Off: live frames are "
        "small and compressing each one for each recipient costs more CPU than it saves.",
    )
    live_queue: int = Field(
        default=1000, ge=10, description="Events queued per live connection before it is closed."
    )
    cot_port: int = Field(
        default=8087, ge=0, le=65535, description="CoT TCP port (0 turns it off)."
    )
    cot_tls_port: int = Field(
        default=8089, ge=0, le=65535, description="CoT TLS port (needs the three cot_tls files)."
    )
    cot_tls_cert: Path | None = Field(default=None, description="Server certificate (PEM).")
    cot_tls_key: Path | None = Field(default=None, description="Server private key (PEM).")
    cot_tls_ca: Path | None = Field(default=None, description="CA that signs client certs.")
    cot_enrol_ca_key: Path | None = Field(
        default=None,
        description="The private key of cot_tls_ca (PEM), to sign the certificates TAK clients "
        "enrol for at /Marti/api/tls/signClient/v2; without it enrolment is refused (409).",
    )
    cot_enrol_days: int = Field(
        default=365, ge=1, le=3650, description="Validity of an enrolled client certificate."
    )
    https_port: int = Field(
        default=8443,
        ge=0,
        le=65535,
        description="HTTPS port where every client presents a certificate from cot_tls_ca and "
        "acts as the person it is registered to (TAK Server's 8443: the Marti API and Kyodo's); "
        "opened with the three cot_tls files, 0 turns it off.",
    )
    https_enrol_port: int = Field(
        default=8446,
        ge=0,
        le=65535,
        description="HTTPS port without client certificates, where TAK clients enrol with a "
        "username and password (TAK Server's 8446); opened with the three cot_tls files, 0 "
        "turns it off.",
    )
    cot_feed: str = Field(default="CoT", description="Feed that CoT position reports go to.")
    cot_feed_ceiling: str = Field(
        default="SECRET//REL TO USA, JPN", description="Ceiling of the CoT feed if it is created."
    )
    cot_feed_default: str = Field(
        default="UNCLASSIFIED", description="Label of unlabelled CoT events in that feed."
    )
    cot_plain_nation: str = Field(
        default="USA", description="Nation of the identity plain-TCP clients act as."
    )
    cot_plain_clearance: str = Field(
        default="UNCLASSIFIED", description="Clearance of that identity (what plain TCP sees)."
    )
    cot_plain_auth: bool = Field(
        default=False,
        description="Let a plain-TCP client act as a person by sending that person's username "
        "and password (a TAK client's <auth>) first. Off: plain TCP carries them in clear text, "
        "so such a client stays the plain identity and its credentials are not even checked.",
    )
    cot_queue: int = Field(default=2000, ge=10, description="Events queued per CoT client.")
    cot_max_refusals: int = Field(
        default=20,
        ge=1,
        description="Refused events (unreadable or refused by policy) after which a CoT client "
        "is dropped.",
    )
    cot_refusal_audit_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A CoT connection's refusals are audited as the first one and one count "
        "per this many seconds.",
    )
    cot_chat_rooms: dict[str, str] = Field(
        default_factory=dict,
        description="GeoChat room → Kyodo net (name or id) its messages are posted in, e.g. "
        '{"Red": "Harbor"} for a team colour or {"All Chat Rooms": "HQ"}. A room not listed '
        "goes to the net of its name.",
    )
    cot_chat_default_nets: dict[str, str] = Field(
        default_factory=dict,
        description='Where "All Chat Rooms" goes when cot_chat_rooms does not name it: the net '
        'for the sender\'s username, else for "nation:<ISO code>", else for "*"; with none, '
        "the sender is answered that the room has no net. A team colour (Red, Cyan…) that "
        "neither cot_chat_rooms nor a net's name covers goes there too.",
    )
    map_tile_url: str | None = Field(
        default=None,
        description="Tile server URL template ({z}/{x}/{y}) replacing the shipped offline basemap.",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="Ed25519 key sealing audit checkpoints (PEM, 0600), kept outside the "
        "database; default: beside a SQLite file, else ~/.local/state/kyodo/. Created by "
        "`kyodo init` or the first start while nothing is sealed yet.",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only JSON lines of sealed checkpoints (default beside the key).",
    )
    audit_checkpoint_records: int = Field(
        default=1000, ge=1, description="Seal a checkpoint after this many new audit records…"
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0, gt=0, description="…or after this many seconds with any new record."
    )
    admin_password: SecretStr | None = Field(
        default=None, description="First admin's password for `kyodo init` (or _file)."
    )
    admin_password_file: Path | None = Field(
        default=None, description="File holding the first admin's password."
    )

    @field_validator("default_policy")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments, then the environment, then the TOML file named by KYODO_CONFIG."""
        import os

        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("KYODO_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    def admin_secret(self) -> str | None:
        """The first admin's password from the setting or its file, if given."""
        if self.admin_password is not None:
            return self.admin_password.get_secret_value()
        if self.admin_password_file is not None:
            return self.admin_password_file.read_text(encoding="utf-8").strip()
        return None
