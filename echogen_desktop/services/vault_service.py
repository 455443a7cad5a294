"""The key vault over Supabase: ``user_api_keys`` rows as typed entries, sealed and opened with the
vault key that lives only in this process (docs/vault-format.md).

Async and Qt-free. Argon2id runs in a worker thread (``asyncio.to_thread``), so the UI keeps
painting during the ~1 s derivation. Failures are ServiceErrors; vault failures are the subclass
VaultFailure, whose ``reason`` names the vault error class so the editor can react (for example,
clear the passphrase field after WrongPassphrase). No message ever carries a secret.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from echogen_desktop import vault
from echogen_desktop.i18n import QT_TRANSLATE_NOOP
from echogen_desktop.services.backend import Backend, SignedIn
from echogen_desktop.services.errors import ErrorKind, ServiceError, from_exception
from echogen_desktop.services.records import parse_time
from echogen_desktop.vault import KdfParams, VaultError, VaultHeader, VaultKey
from echogen_desktop.vault.kdf import KEY_BYTES

log = logging.getLogger(__name__)
T = TypeVar("T")

TABLE = "user_api_keys"
COLUMNS = "id,user_id,provider,key_alias,encrypted_key,metadata,created_at,updated_at"
TOKEN_PREFIX = "v1:"  # the remembered-key token: "v1:" + base64(check) + ":" + base64(key)

_REASONS: dict[str, str] = {
    "WrongPassphrase": QT_TRANSLATE_NOOP("ServiceError", "Wrong passphrase."),
    "TamperedCiphertext": QT_TRANSLATE_NOOP("ServiceError", "This key was modified or does not belong here."),
    "UnknownVersion": QT_TRANSLATE_NOOP("ServiceError", "This vault was written by a newer EchoGen. Update the app."),
    "MalformedCiphertext": QT_TRANSLATE_NOOP("ServiceError", "This stored key is corrupt."),
    "InsecureParameters": QT_TRANSLATE_NOOP("ServiceError", "The vault parameters were weakened or are invalid."),
    "MalformedHeader": QT_TRANSLATE_NOOP("ServiceError", "The vault header is corrupt."),
    "InconsistentVault": QT_TRANSLATE_NOOP(
        "ServiceError", "The vault is inconsistent: its keys were sealed with different passphrases."),
    "InvalidBinding": QT_TRANSLATE_NOOP("ServiceError", "This key cannot be stored (invalid provider)."),
    "VaultLocked": QT_TRANSLATE_NOOP("ServiceError", "The vault is locked. Unlock it first."),
    "NoVault": QT_TRANSLATE_NOOP("ServiceError", "There is no vault yet. Set a passphrase first."),
    "VaultExists": QT_TRANSLATE_NOOP("ServiceError", "A vault already exists. Unlock it with its passphrase."),
    "StaleRememberedKey": QT_TRANSLATE_NOOP(
        "ServiceError", "The key remembered on this device no longer opens the vault."),
}


class VaultFailure(ServiceError):
    """A vault operation failed; ``reason`` is the VaultError class name (or a service-level reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(ErrorKind.INVALID_INPUT, _REASONS.get(reason) or QT_TRANSLATE_NOOP(
            "ServiceError", "The vault cannot be used."))
        self.reason = reason


def _vault_failure(exc: VaultError) -> VaultFailure:
    reason = type(exc).__name__
    return VaultFailure(reason if reason in _REASONS else "MalformedHeader")


@dataclass(frozen=True)
class Caps:
    monthly_usd: float | None = None
    requests_per_day: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.monthly_usd is not None:
            out["monthly_usd"] = self.monthly_usd
        if self.requests_per_day is not None:
            out["requests_per_day"] = self.requests_per_day
        return out

    @classmethod
    def from_json(cls, value: object) -> Caps:
        if not isinstance(value, Mapping):
            return cls()
        usd, per_day = value.get("monthly_usd"), value.get("requests_per_day")
        return cls(
            float(usd) if isinstance(usd, int | float) and not isinstance(usd, bool) and usd > 0 else None,
            int(per_day) if isinstance(per_day, int) and not isinstance(per_day, bool) and per_day > 0 else None,
        )


@dataclass(frozen=True)
class VaultEntry:
    """One stored key. Holds only ciphertext; ``open`` it through the service while unlocked."""

    id: str
    user_id: str
    provider: str
    alias: str
    encrypted_key: str = field(repr=False)
    metadata: Mapping[str, Any] = field(repr=False, compare=False)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        value = self.metadata.get("scopes")
        return tuple(str(s) for s in value if isinstance(s, str)) if isinstance(value, list) else ()

    @property
    def caps(self) -> Caps:
        return Caps.from_json(self.metadata.get("caps"))

    def row(self) -> dict[str, Any]:
        """The row shape the vault functions take (open_row, rekey)."""
        return {"id": self.id, "user_id": self.user_id, "provider": self.provider, "key_alias": self.alias,
                "encrypted_key": self.encrypted_key, "metadata": dict(self.metadata)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> VaultEntry:
        metadata = row.get("metadata")
        return cls(
            id=str(row.get("id", "")), user_id=str(row.get("user_id", "")), provider=str(row.get("provider") or ""),
            alias=str(row.get("key_alias") or ""), encrypted_key=str(row.get("encrypted_key") or ""),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            created_at=parse_time(row.get("created_at")), updated_at=parse_time(row.get("updated_at")),
        )


def same_slot(provider_a: str, alias_a: str, provider_b: str, alias_b: str) -> bool:
    """Provider + alias identify a key for the user; compared without case or surrounding blanks."""
    return (provider_a.strip().casefold(), alias_a.strip().casefold()) == (
        provider_b.strip().casefold(), alias_b.strip().casefold())


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the current month in the user's local time."""
    local = (now or datetime.now(UTC)).astimezone()
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class _Sealed:
    """Hides a value from reprs: executors log their callbacks and results at DEBUG level."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<vault work>"


async def in_thread(work: Callable[[], T]) -> T:
    """Run CPU-heavy vault work (Argon2id) off the UI thread. The work is a closure and its result is
    wrapped, so neither a passphrase argument nor a result can appear in an executor's debug log."""
    def run() -> _Sealed:
        return _Sealed(work())
    sealed = await asyncio.to_thread(run)
    return cast(T, sealed.value)


_calibrated: KdfParams | None = None


async def calibrated_params() -> KdfParams:
    """Argon2id parameters for ~0.75 s on this machine, measured once per process (in a thread)."""
    global _calibrated
    if _calibrated is None:
        result = await in_thread(vault.calibrate)
        log.info("vault KDF calibrated: t=%d, %.2f s", result.params.iterations, result.seconds)
        _calibrated = result.params
    return _calibrated


class VaultService:
    """One user's vault. ``kdf_params`` fixes the parameters of new vaults and passphrase changes
    (tests use the minimum); by default they are calibrated on this machine."""

    def __init__(self, backend: Backend, *, kdf_params: KdfParams | None = None) -> None:
        if kdf_params is not None:
            kdf_params.validate()
        self._backend = backend
        self._kdf_params = kdf_params
        self._key: VaultKey | None = None
        self._owner: str | None = None
        self._epoch = 0  # bumped by lock(): an unlock that finishes after a lock is discarded
        self._lock_listeners: list[Callable[[], None]] = []
        backend.add_session_listener(self._on_session)

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def unlocked(self) -> bool:
        return self._key is not None and not self._key.locked

    @property
    def header(self) -> VaultHeader | None:
        return self._key.header if self._key is not None else None

    def add_lock_listener(self, listener: Callable[[], None]) -> None:
        """Called whenever the vault locks (by the user, on idle, or because the user signed out)."""
        self._lock_listeners.append(listener)

    def remove_lock_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._lock_listeners:
            self._lock_listeners.remove(listener)

    def _on_session(self, user: SignedIn | None) -> None:
        if self._key is not None and (user is None or user.user_id != self._owner):
            self.lock()

    def lock(self) -> None:
        """Wipe the key bytes and forget the key; in-flight unlocks are discarded."""
        self._epoch += 1
        key, self._key, self._owner = self._key, None, None
        if key is not None:
            key.lock()
            for listener in list(self._lock_listeners):
                listener()

    def _user_id(self) -> str:
        user = self._backend.user
        if user is None:
            raise ServiceError(ErrorKind.SESSION_EXPIRED, QT_TRANSLATE_NOOP(
                "ServiceError", "You are signed out. Please sign in."))
        return user.user_id

    def _require_key(self) -> VaultKey:
        if self._key is None or self._key.locked or self._owner != self._user_id():
            raise VaultFailure("VaultLocked")
        return self._key

    def _adopt(self, key: VaultKey, epoch: int, user_id: str) -> None:
        if epoch != self._epoch or self._backend.user is None or self._backend.user.user_id != user_id:
            key.lock()  # locked or signed out while deriving
            raise VaultFailure("VaultLocked")
        if self._key is not None and self._key is not key:
            self._key.lock()
        self._key, self._owner = key, user_id

    async def _params(self) -> KdfParams:
        return self._kdf_params if self._kdf_params is not None else await calibrated_params()

    # ------------------------------------------------------------------ reading
    async def _rows(self) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            response = await self._backend.table(TABLE).select(COLUMNS).eq("user_id", self._user_id()).order(
                "provider").order("key_alias").order("id").execute()
            return [dict(row) for row in response.data if isinstance(row, Mapping)]
        return await _service_call(fetch())

    async def entries(self) -> list[VaultEntry]:
        return [VaultEntry.from_row(row) for row in await self._rows()]

    async def has_vault(self) -> bool:
        """Whether the user has stored keys (and so a passphrase); False means first use."""
        return bool(await self._rows())

    def open(self, entry: VaultEntry) -> str:
        """The plaintext key, for the moment of use (copy, reveal). Never keep it."""
        try:
            return vault.open_row(self._require_key(), entry.row())
        except VaultError as exc:
            raise _vault_failure(exc) from None

    async def month_usage(self, now: datetime | None = None) -> dict[str, float]:
        """This month's usage_events.cost_usd per provider (casefolded provider names)."""
        async def fetch() -> dict[str, float]:
            start = month_start(now).isoformat()
            response = await self._backend.table("usage_events").select("provider,cost_usd").eq(
                "user_id", self._user_id()).gte("created_at", start).limit(10000).execute()
            totals: dict[str, float] = {}
            for row in response.data:
                if not isinstance(row, Mapping):
                    continue
                provider = str(row.get("provider") or "").strip().casefold()
                try:
                    cost = float(str(row.get("cost_usd") or 0))
                except ValueError:
                    continue
                totals[provider] = totals.get(provider, 0.0) + cost
            return totals
        return await _service_call(fetch())

    # ---------------------------------------------------------------- lock state
    async def create(self, passphrase: str) -> None:
        """First use: derive a new vault key. Nothing is stored until the first key is added."""
        if not passphrase:
            raise ServiceError(ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP("ServiceError", "Enter a passphrase."))
        user_id, epoch = self._user_id(), self._epoch
        if await self.has_vault():
            raise VaultFailure("VaultExists")
        params = await self._params()
        key = await in_thread(lambda: vault.create_vault(passphrase, params))
        self._adopt(key, epoch, user_id)

    async def unlock(self, passphrase: str) -> list[VaultEntry]:
        user_id, epoch = self._user_id(), self._epoch
        rows = await self._rows()
        header = self._header_of(rows)
        try:
            key = await in_thread(lambda: vault.unlock(header, passphrase))
        except VaultError as exc:
            raise _vault_failure(exc) from None
        self._adopt(key, epoch, user_id)
        return [VaultEntry.from_row(row) for row in rows]

    def key_token(self) -> str:
        """The unlocked key with its vault's key-check, for the opt-in OS keychain entry."""
        key = self._require_key()
        return TOKEN_PREFIX + base64.b64encode(key.header.check).decode() + ":" + base64.b64encode(
            key.material()).decode()

    async def unlock_with_token(self, token: str) -> list[VaultEntry]:
        """Unlock with a remembered key token; it must match this vault's key-check and open a row."""
        user_id, epoch = self._user_id(), self._epoch
        rows = await self._rows()
        header = self._header_of(rows)
        material = _parse_token(token, header)
        key = VaultKey(header, material)
        try:
            vault.open_row(key, rows[0])
        except VaultError:
            key.lock()
            raise VaultFailure("StaleRememberedKey") from None
        self._adopt(key, epoch, user_id)
        return [VaultEntry.from_row(row) for row in rows]

    @staticmethod
    def _header_of(rows: Sequence[Mapping[str, Any]]) -> VaultHeader:
        try:
            header = vault.header_of_rows(rows)
        except VaultError as exc:
            raise _vault_failure(exc) from None
        if header is None:
            raise VaultFailure("NoVault")
        return header

    # ------------------------------------------------------------------ writing
    async def _check_free(self, provider: str, alias: str, exclude_id: str | None) -> None:
        for row in await self._rows():
            if row.get("id") != exclude_id and same_slot(
                    str(row.get("provider") or ""), str(row.get("key_alias") or ""), provider, alias):
                raise ServiceError(ErrorKind.CONFLICT, QT_TRANSLATE_NOOP(
                    "ServiceError", "You already have a key with this provider and alias."))

    async def add(self, provider: str, alias: str, secret: str, scopes: Iterable[str] = (),
                  caps: Caps = Caps()) -> VaultEntry:
        provider, alias = provider.strip(), alias.strip()
        key = self._require_key()
        await self._check_free(provider, alias, None)
        try:
            row = vault.seal_row(key, secret, user_id=self._user_id(), provider=provider, key_alias=alias,
                                 metadata=_plain_metadata({}, scopes, caps))
        except VaultError as exc:
            raise _vault_failure(exc) from None

        async def insert() -> VaultEntry:
            response = await self._backend.table(TABLE).insert(row).execute()
            return VaultEntry.from_row(_first(response.data))
        return await _service_call(insert())

    async def update(self, entry: VaultEntry, *, provider: str, alias: str, secret: str | None,
                     scopes: Iterable[str], caps: Caps) -> VaultEntry:
        """Save an edit. A new key value or a new provider re-seals the key (fresh nonce); alias,
        scopes and caps are plain metadata. ``secret=None`` keeps the stored key."""
        provider, alias = provider.strip(), alias.strip()
        key = self._require_key()
        await self._check_free(provider, alias, entry.id)
        change: dict[str, Any] = {"provider": provider, "key_alias": alias,
                                  "metadata": _plain_metadata(entry.metadata, scopes, caps)}
        try:
            if secret is not None or provider != entry.provider:
                value = secret if secret is not None else vault.open_row(key, entry.row())
                sealed = vault.seal_row(key, value, user_id=entry.user_id, provider=provider, row_id=entry.id)
                del value
                change["encrypted_key"] = sealed["encrypted_key"]
                change["metadata"]["vault"] = sealed["metadata"]["vault"]
        except VaultError as exc:
            raise _vault_failure(exc) from None

        async def save() -> VaultEntry:
            response = await self._backend.table(TABLE).update(change).eq("id", entry.id).execute()
            return VaultEntry.from_row(_first(response.data))
        return await _service_call(save())

    async def delete(self, entry: VaultEntry) -> None:
        async def remove() -> None:
            await self._backend.table(TABLE).delete().eq("id", entry.id).execute()
        await _service_call(remove())

    async def change_passphrase(self, current: str, new: str) -> None:
        """Re-seal every key under a new salt and passphrase, written in ONE bulk upsert (one
        transaction): on any failure the server keeps the old vault, readable as before."""
        if not new:
            raise ServiceError(ErrorKind.INVALID_INPUT, QT_TRANSLATE_NOOP("ServiceError", "Enter a new passphrase."))
        old_key, user_id, epoch = self._require_key(), self._user_id(), self._epoch
        rows = await self._rows()
        try:
            header = vault.header_of_rows(rows)
        except VaultError as exc:
            raise _vault_failure(exc) from None
        try:
            check = await in_thread(lambda: vault.unlock(header or old_key.header, current))
        except VaultError as exc:
            raise _vault_failure(exc) from None
        check.lock()  # only proves the user knows the current passphrase
        params = await self._params()
        if header is None:  # nothing stored yet: a new key is all it takes
            self._adopt(await in_thread(lambda: vault.create_vault(new, params)), epoch, user_id)
            return
        try:
            result = await in_thread(lambda: vault.rekey(rows, old_key, new, params))
        except VaultError as exc:
            raise _vault_failure(exc) from None
        try:
            await _service_call(self._backend.table(TABLE).upsert(result.rows, on_conflict="id").execute())
        except BaseException:
            result.key.lock()
            raise
        self._adopt(result.key, epoch, user_id)


def _plain_metadata(metadata: Mapping[str, Any], scopes: Iterable[str], caps: Caps) -> dict[str, Any]:
    """Carry over unknown metadata (and the vault header), replacing scopes and caps."""
    out = {name: value for name, value in metadata.items() if name not in ("scopes", "caps")}
    out["scopes"] = [s.strip() for s in scopes if s.strip()]
    out["caps"] = caps.to_json()
    return out


def _parse_token(token: str, header: VaultHeader) -> bytearray:
    parts = token[len(TOKEN_PREFIX):].split(":") if token.startswith(TOKEN_PREFIX) else []
    try:
        check, material = (base64.b64decode(p, validate=True) for p in parts) if len(parts) == 2 else (b"", b"")
    except (binascii.Error, ValueError):
        check, material = b"", b""
    if len(material) != KEY_BYTES or not hmac.compare_digest(check, header.check):
        raise VaultFailure("StaleRememberedKey")
    return bytearray(material)


def _first(data: object) -> Mapping[str, Any]:
    if not isinstance(data, list) or not data or not isinstance(data[0], Mapping):
        raise ServiceError(ErrorKind.NOT_FOUND, QT_TRANSLATE_NOOP("ServiceError", "That key no longer exists."))
    return data[0]


async def _service_call(work: Awaitable[T]) -> T:
    try:
        return await work
    except ServiceError:
        raise
    except Exception as exc:
        error = from_exception(exc)
        log.warning("vault request failed: %s (%s)", error.message, type(exc).__name__)
        raise error from exc
