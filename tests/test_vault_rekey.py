"""The vault over the real stack: passphrase change as one bulk upsert, its failure half-way,
two users kept apart by RLS, and ciphertexts that refuse to open anywhere but their own row."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx
import pytest
from postgrest.exceptions import APIError
from supabase import AsyncClient, AsyncClientOptions, acreate_client

from echogen_desktop import vault
from echogen_desktop.vault import (
    InconsistentVault,
    KdfParams,
    TamperedCiphertext,
    VaultKey,
    WrongPassphrase,
)
from echogen_desktop.vault.rows import ROW_COLUMNS
from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

FAST = KdfParams(memory_kib=65536, iterations=1, lanes=1)
OLD = "old vault passphrase"
NEW = "brand new vault passphrase"
SECRETS = {
    ("openai", "main"): "sk-test-rekey-NOT-A-REAL-KEY-openai",
    ("gemini", "work"): "AIza-test-rekey-NOT-A-REAL-KEY-gemini",
    ("groq", "spare"): "gsk_test_rekey_NOT_A_REAL_KEY_groq",
}

UserFactory = Callable[[], Awaitable[TestUser]]


async def fetch(client: AsyncClient) -> list[dict[str, Any]]:
    response = await client.table("user_api_keys").select("*").order("provider").execute()
    return cast(list[dict[str, Any]], response.data)


async def store_three_keys(user: TestUser) -> VaultKey:
    key = vault.create_vault(OLD, FAST)
    rows = [
        vault.seal_row(key, secret, user_id=user.id, provider=provider, key_alias=alias,
                       metadata={"scopes": ["tts"], "caps": {"monthly_usd": 5}})
        for (provider, alias), secret in SECRETS.items()
    ]
    await user.client.table("user_api_keys").insert(rows).execute()
    return key


def open_all(rows: list[dict[str, Any]], passphrase: str) -> dict[tuple[str, str], str]:
    header = vault.header_of_rows(rows)
    assert header is not None
    with vault.unlock(header, passphrase) as key:
        return {(row["provider"], row["key_alias"]): vault.open_row(key, row) for row in rows}


def count_requests(http: httpx.AsyncClient, path: str) -> list[str]:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        if request.url.path.endswith(path):
            seen.append(request.method)

    http.event_hooks["request"].append(hook)
    return seen


async def test_passphrase_change_is_one_upsert(user_factory: UserFactory, http: httpx.AsyncClient) -> None:
    user = await user_factory()
    (await store_three_keys(user)).lock()
    before = await fetch(user.client)
    assert open_all(before, OLD) == SECRETS

    with vault.unlock(vault.header_of_rows(before) or pytest.fail("no header"), OLD) as old_key:
        result = vault.rekey(before, old_key, NEW, FAST)
        requests = count_requests(http, "/rest/v1/user_api_keys")
        await user.client.table("user_api_keys").upsert(result.rows, on_conflict="id").execute()
        assert requests == ["POST"]

        after = await fetch(user.client)
        assert [r["id"] for r in after] == [r["id"] for r in before]
        assert all(r["metadata"]["vault"] == result.header for r in after)
        assert all(r["metadata"]["scopes"] == ["tts"] and r["metadata"]["caps"] == {"monthly_usd": 5} for r in after)
        assert result.header["salt"] != before[0]["metadata"]["vault"]["salt"]
        assert {r["encrypted_key"] for r in after}.isdisjoint(r["encrypted_key"] for r in before)

        assert open_all(after, NEW) == SECRETS
        assert all(vault.open_row(result.key, row) for row in after)
        with pytest.raises(WrongPassphrase):
            open_all(after, OLD)
        for row in after:
            with pytest.raises(InconsistentVault):
                vault.open_row(old_key, row)
            with pytest.raises(TamperedCiphertext):  # the old key, even past the header check
                vault.decrypt_key(old_key, row["encrypted_key"], user_id=row["user_id"], row_id=row["id"],
                                  provider=row["provider"])
    result.key.lock()


def test_rekey_refuses_rows_it_cannot_open() -> None:
    """Every row is opened before anything new exists: one bad row, and no new vault comes out."""
    user = "6f1c2a9e-4b7d-4c1e-9a55-0d3b8e2f7a10"
    with vault.create_vault(OLD, FAST) as key:
        rows = [
            vault.seal_row(key, secret, user_id=user, provider=provider, key_alias=alias)
            for (provider, alias), secret in SECRETS.items()
        ]
        with pytest.raises(TamperedCiphertext):
            vault.rekey([*rows[:2], {**rows[2], "provider": "elevenlabs"}], key, NEW, FAST)
        foreign = vault.seal_row(vault.create_vault(OLD, FAST), "x", user_id=user, provider="groq")
        with pytest.raises(InconsistentVault):
            vault.rekey([*rows, foreign], key, NEW, FAST)
        result = vault.rekey(rows, key, NEW, FAST)
        assert [r["id"] for r in result.rows] == [r["id"] for r in rows]
        assert result.header == result.key.header.to_json() != key.header.to_json()
        result.key.lock()


def null_key(rows: list[dict[str, Any]], other: TestUser) -> None:
    rows[-1]["encrypted_key"] = None  # violates NOT NULL on the last row, after the others were written


def other_owner(rows: list[dict[str, Any]], other: TestUser) -> None:
    rows[-1]["user_id"] = other.id  # violates the RLS WITH CHECK on the last row


@pytest.mark.parametrize(("break_request", "code"), [(null_key, "23502"), (other_owner, "42501")])
async def test_failed_passphrase_change_leaves_the_old_vault(
    user_factory: UserFactory, break_request: Callable[[list[dict[str, Any]], TestUser], None], code: str,
) -> None:
    user, other = await user_factory(), await user_factory()
    (await store_three_keys(user)).lock()
    before = await fetch(user.client)

    with vault.unlock(vault.header_of_rows(before) or pytest.fail("no header"), OLD) as old_key:
        result = vault.rekey(before, old_key, NEW, FAST)
    break_request(result.rows, other)
    with pytest.raises(APIError) as raised:
        await user.client.table("user_api_keys").upsert(result.rows, on_conflict="id").execute()
    assert raised.value.code == code  # Postgres refused the last row, after the first two were written
    result.key.lock()

    after = await fetch(user.client)
    assert after == before  # byte for byte, updated_at included: nothing was partially changed
    assert open_all(after, OLD) == SECRETS
    with pytest.raises(WrongPassphrase):
        open_all(after, NEW)
    assert await fetch(other.client) == []


async def test_dropped_connection_leaves_the_old_vault(user_factory: UserFactory, stack: StackInfo) -> None:
    """The request dies on the wire: the client sees an error, and the server still has the old vault."""
    user = await user_factory()
    (await store_three_keys(user)).lock()
    before = await fetch(user.client)
    with vault.unlock(vault.header_of_rows(before) or pytest.fail("no header"), OLD) as old_key:
        result = vault.rekey(before, old_key, NEW, FAST)

    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("connection dropped", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(drop)) as dead:
        options = AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=dead)
        broken = await acreate_client(stack.url, stack.anon_key, options=options)
        with pytest.raises(httpx.TransportError):
            await broken.table("user_api_keys").upsert(result.rows, on_conflict="id").execute()
    result.key.lock()
    assert await fetch(user.client) == before
    assert open_all(before, OLD) == SECRETS


async def test_two_vaults_are_kept_apart(
    user_factory: UserFactory, service_client: AsyncClient,
) -> None:
    alice, bob = await user_factory(), await user_factory()
    alice_key = await store_three_keys(alice)
    alice_rows = await fetch(alice.client)

    # RLS: Bob sees none of Alice's rows, and cannot overwrite one by id.
    assert await fetch(bob.client) == []
    assert (await bob.client.table("user_api_keys").select("*").eq("id", alice_rows[0]["id"]).execute()).data == []
    hijack = {**alice_rows[0], "user_id": bob.id, "encrypted_key": "v1:" + "A" * 40}
    hijack = {k: hijack[k] for k in ROW_COLUMNS}
    with pytest.raises(APIError) as raised:
        await bob.client.table("user_api_keys").upsert(hijack, on_conflict="id").execute()
    assert raised.value.code == "42501"
    assert await fetch(alice.client) == alice_rows

    # Alice's ciphertext and header, copied into Bob's vault: the owner binding refuses it, even
    # to someone holding Alice's passphrase.
    stolen = alice_rows[0]
    planted = {
        "id": vault.new_row_id(), "user_id": bob.id, "provider": stolen["provider"], "key_alias": "planted",
        "encrypted_key": stolen["encrypted_key"], "metadata": stolen["metadata"],
    }
    await bob.client.table("user_api_keys").insert(planted).execute()
    (bob_row,) = await fetch(bob.client)
    with pytest.raises(TamperedCiphertext):
        vault.open_row(alice_key, bob_row)

    # Within Alice's vault: a ciphertext moved to another row, or a row relabelled to another
    # provider, no longer opens.
    first, second = alice_rows[0], alice_rows[1]
    await alice.client.table("user_api_keys").update({"encrypted_key": first["encrypted_key"]}).eq(
        "id", second["id"]).execute()
    await alice.client.table("user_api_keys").update({"provider": "openrouter"}).eq("id", first["id"]).execute()
    moved = {row["id"]: row for row in await fetch(alice.client)}
    for row_id in (first["id"], second["id"]):
        with pytest.raises(TamperedCiphertext):
            vault.open_row(alice_key, moved[row_id])
    assert vault.open_row(alice_key, moved[alice_rows[2]["id"]]) == SECRETS[
        (alice_rows[2]["provider"], alice_rows[2]["key_alias"])]
    alice_key.lock()

    # What the server holds (read with the service role, past RLS): no plaintext, no passphrase.
    everything = (await service_client.table("user_api_keys").select("*").in_(
        "user_id", [alice.id, bob.id]).execute()).data
    dump = json.dumps(everything)
    assert len(everything) == 4
    for secret in (*SECRETS.values(), OLD):
        assert secret not in dump
