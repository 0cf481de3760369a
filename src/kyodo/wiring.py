"""The composition root: the services' context, the audit sealer and the enrolment CA, built from
settings for the HTTP app, the TAK server and the CLI alike (no transport builds its own)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kyodo.audit_files import CheckpointFile, ensure_key, seal_paths
from kyodo.pki.files import load_pair
from kyodo.pki.issuing import CertifiedKey, require_ca
from kyodo.scheme_files import load_registry
from kyodo.services.audit_seal import AuditSealer
from kyodo.services.context import ServiceContext
from kyodo.services.read_cache import ReadCache
from kyodo.services.throttle import LoginThrottle
from kyodo.spillage_files import load_rules
from kyodo.store.sql.database import SqlDatabase

if TYPE_CHECKING:
    from kyodo.settings import Settings


def build_context(settings: Settings) -> ServiceContext:
    """The services' context for these settings (database, schemes, throttle)."""
    registry = load_registry(settings.scheme_dirs, settings.default_policy)
    return ServiceContext(
        db=SqlDatabase(settings.database_url),
        registry=registry,
        session_ttl=timedelta(hours=settings.session_hours),
        token_ttl=timedelta(days=min(settings.token_days, settings.token_max_days)),
        token_max_ttl=timedelta(days=settings.token_max_days),
        retention_floor_days=settings.retention_floor_days,
        guard_rules=load_rules(settings.guard_rules_file, registry),
        reads=ReadCache(settings.read_cache_seconds),
        track_history_limit=settings.track_history,
        throttle=LoginThrottle(
            settings.login_max_failures_per_account,
            settings.login_max_failures_per_address,
            settings.login_failure_window_seconds,
        ),
    )


def open_sealer(ctx: ServiceContext, settings: Settings) -> AuditSealer:
    """The audit sealer for these settings: its key (created while nothing is sealed yet) and
    checkpoint log."""
    key_path, log_path = seal_paths(settings)
    checkpoints = CheckpointFile(log_path)
    return AuditSealer(
        ctx,
        ensure_key(key_path, checkpoints),
        checkpoints,
        every_records=settings.audit_checkpoint_records,
        every_seconds=settings.audit_checkpoint_seconds,
    )


def load_enrolment_ca(settings: Settings) -> CertifiedKey | None:
    """The CoT CA with its key, for certificate enrolment; None unless both are configured
    (a key that is not the CA's stops the start)."""
    if settings.cot_tls_ca is None or settings.cot_enrol_ca_key is None:
        return None
    ca = load_pair(settings.cot_tls_ca, settings.cot_enrol_ca_key)
    require_ca(ca.certificate)
    return ca
