"""Realtime ``postgres_changes`` through the real gateway (protocol spec §E).

The unmodified supabase-py async client subscribes; rows are written over REST with the service
key (users may only insert queued jobs) or through the superuser DSN; the client's callbacks
must fire within 1 s, and only for rows the subscriber's RLS lets it see. Raw websocket tests
cover what the client never sends: heartbeats by hand, bad keys, malformed frames.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import jwt
import pytest
import websockets
from realtime import AsyncRealtimeChannel, RealtimeSubscribeStates
from realtime.types import RealtimePostgresChangesListenEvent as Event
from supabase import AsyncClient

from echogen_devstack.runner import StackInfo
from tests.conftest import TestUser

DEADLINE = 1.0  # seconds: the issue's "within 1 s over realtime"
QUIET = 0.5  # how long a subscriber must stay silent to count as "saw nothing"


@dataclass
class Feed:
    """One subscribed channel and everything its callbacks received."""

    channel: AsyncRealtimeChannel | None = None
    events: asyncio.Queue[tuple[float, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    states: list[str] = field(default_factory=list)

    def on_change(self, payload: Any) -> None:
        self.events.put_nowait((time.perf_counter(), payload))

    async def next(self, timeout: float = DEADLINE) -> tuple[float, dict[str, Any]]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_data(self, timeout: float = DEADLINE) -> dict[str, Any]:
        _, payload = await self.next(timeout)
        data: dict[str, Any] = payload["data"]
        return data

    def assert_empty(self) -> None:
        assert self.events.empty(), f"unexpected change: {self.events.get_nowait()[1]}"


async def listen(
    client: AsyncClient, token: str, *, event: Event = Event.All, table: str = "processing_jobs",
    filter: str | None = None,
) -> Feed:
    await client.realtime.set_auth(token)
    feed = Feed()
    channel = client.channel(f"jobs-{uuid.uuid4().hex[:8]}")
    channel.on_postgres_changes(event, callback=feed.on_change, schema="public", table=table, filter=filter)
    await channel.subscribe(lambda state, err: feed.states.append(state.value))
    assert feed.states == [RealtimeSubscribeStates.SUBSCRIBED.value]
    feed.channel = channel
    return feed


@pytest.fixture
async def clients() -> AsyncIterator[list[AsyncClient]]:
    """Clients whose realtime sockets the test opened; all are closed afterwards."""
    opened: list[AsyncClient] = []
    yield opened
    for client in opened:
        await client.remove_all_channels()


@pytest.fixture
async def admin(stack: StackInfo) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    conn = await asyncpg.connect(stack.admin_dsn)
    yield conn
    await conn.close()


def new_job_id() -> str:
    return f"job-{uuid.uuid4().hex}"


async def insert_job(service: AsyncClient, user_id: str, **fields: Any) -> str:
    job_id = new_job_id()
    row = {"id": job_id, "user_id": user_id, "job_type": "script_generation", **fields}
    await service.table("processing_jobs").insert(row).execute()
    return job_id


def ws_url(stack: StackInfo, apikey: str | None) -> str:
    base = stack.url.replace("http://", "ws://") + "/realtime/v1/websocket?vsn=1.0.0"
    return base + (f"&apikey={apikey}" if apikey else "")


async def recv_json(ws: websockets.ClientConnection, timeout: float = 2.0) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return loaded


async def recv_until(
    ws: websockets.ClientConnection, want: Callable[[dict[str, Any]], bool], timeout: float = 2.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if want(msg):
            return msg


def join_frame(topic: str, ref: str, token: str | None, changes: list[dict[str, Any]]) -> str:
    payload: dict[str, Any] = {"config": {"broadcast": {"ack": False, "self": False},
                                          "presence": {"key": "", "enabled": False},
                                          "private": False, "postgres_changes": changes}}
    if token:
        payload["access_token"] = token
    return json.dumps({"event": "phx_join", "topic": topic, "payload": payload, "ref": ref, "join_ref": ref})


JOBS = [{"event": "*", "schema": "public", "table": "processing_jobs"}]


def user_token(stack: StackInfo, user: TestUser, lifetime: int) -> str:
    now = int(time.time())
    claims = {"sub": user.id, "role": "authenticated", "aud": "authenticated", "email": user.email,
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, stack.jwt_secret, algorithm="HS256")


Factory = Callable[[], Awaitable[TestUser]]


async def test_owner_sees_insert_and_update_others_see_nothing(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a, b = await user_factory(), await user_factory()
    clients.extend([a.client, b.client])
    feed_a = await listen(a.client, a.access_token)
    feed_b = await listen(b.client, b.access_token)

    started = time.perf_counter()
    job = await insert_job(service_client, a.id, payload={"content_id": "c1"})
    arrived, payload = await feed_a.next()
    assert arrived - started < DEADLINE
    data = payload["data"]
    assert (data["type"], data["schema"], data["table"]) == ("INSERT", "public", "processing_jobs")
    assert data["record"]["id"] == job and data["record"]["user_id"] == a.id
    assert data["record"]["payload"] == {"content_id": "c1"} and data["errors"] is None
    assert {"name": "user_id", "type": "uuid"} in data["columns"]
    assert data["commit_timestamp"].endswith("Z")

    started = time.perf_counter()
    await service_client.table("processing_jobs").update({"status": "running"}).eq("id", job).execute()
    arrived, payload = await feed_a.next()
    assert arrived - started < DEADLINE
    data = payload["data"]
    assert data["type"] == "UPDATE" and data["record"]["status"] == "running"
    assert data["old_record"] == {"id": job}  # default replica identity: the key only

    # B's own row is the sentinel: once it arrives, A's two changes would have arrived before it.
    own = await insert_job(service_client, b.id)
    assert (await feed_b.next_data())["record"]["id"] == own
    feed_b.assert_empty()
    await asyncio.sleep(QUIET)
    feed_a.assert_empty()


async def test_user_queues_and_cancels_own_job(
    user_factory: Factory, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    feed = await listen(a.client, a.access_token)
    job = new_job_id()
    await a.client.table("processing_jobs").insert(
        {"id": job, "user_id": a.id, "job_type": "audio_render"}).execute()
    assert (await feed.next_data())["record"]["status"] == "queued"
    await a.client.table("processing_jobs").update({"status": "cancelled"}).eq("id", job).execute()
    data = await feed.next_data()
    assert data["type"] == "UPDATE" and data["record"]["status"] == "cancelled"


async def test_filters_are_applied_server_side(
    user_factory: Factory, stack: StackInfo, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a, b = await user_factory(), await user_factory()
    # The service role sees every row, so only the filter can keep B's rows out.
    clients.append(service_client)
    by_user = await listen(service_client, stack.service_key, filter=f"user_id=eq.{a.id}")
    by_status = await listen(service_client, stack.service_key, event=Event.Update,
                             filter="status=in.(running,failed)")

    await insert_job(service_client, b.id)
    job_a = await insert_job(service_client, a.id)
    data = await by_user.next_data()
    assert data["record"]["id"] == job_a  # B's earlier row was filtered out
    for status in ("succeeded", "running"):
        await service_client.table("processing_jobs").update({"status": status}).eq("id", job_a).execute()
    assert [(await by_user.next_data())["record"]["status"] for _ in range(2)] == ["succeeded", "running"]
    data = await by_status.next_data()
    assert data["record"]["status"] == "running"  # 'succeeded' was not in the list
    by_status.assert_empty()


async def test_user_filter_on_own_id(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    feed = await listen(a.client, a.access_token, filter=f"user_id=eq.{a.id}")
    job = await insert_job(service_client, a.id)
    assert (await feed.next_data())["record"]["id"] == job


async def test_delete_sends_primary_key_only_to_who_could_see_the_row(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a, b = await user_factory(), await user_factory()
    clients.extend([a.client, b.client])
    job_a, job_b = await insert_job(service_client, a.id), await insert_job(service_client, b.id)
    feed_a = await listen(a.client, a.access_token, event=Event.Delete)
    feed_b = await listen(b.client, b.access_token, event=Event.Delete)

    await service_client.table("processing_jobs").delete().eq("id", job_a).execute()
    data = await feed_a.next_data()
    assert data["type"] == "DELETE" and data["old_record"] == {"id": job_a}
    assert "record" not in data
    await service_client.table("processing_jobs").delete().eq("id", job_b).execute()
    assert (await feed_b.next_data())["old_record"] == {"id": job_b}
    feed_b.assert_empty()  # B never saw A's delete, which came first
    feed_a.assert_empty()


async def test_bindings_on_one_channel_each_get_their_own_events(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    await a.client.realtime.set_auth(a.access_token)
    inserts, updates, narrow = Feed(), Feed(), Feed()
    channel = a.client.channel("jobs-split")
    jobs = "processing_jobs"
    channel.on_postgres_changes(Event.Insert, callback=inserts.on_change, schema="public", table=jobs)
    channel.on_postgres_changes(Event.Update, callback=updates.on_change, schema="public", table=jobs)
    channel.on_postgres_changes(Event.Insert, callback=narrow.on_change, schema="public", table=jobs,
                                select=["id", "status"])
    states: list[str] = []
    await channel.subscribe(lambda state, err: states.append(state.value))
    assert states == [RealtimeSubscribeStates.SUBSCRIBED.value]  # no binding mismatch

    job = await insert_job(service_client, a.id)
    assert (await inserts.next_data())["type"] == "INSERT"
    data = await narrow.next_data()
    # Both INSERT bindings matched, so this message carries every column of the wider one.
    assert data["record"]["id"] == job
    await service_client.table("processing_jobs").update({"status": "running"}).eq("id", job).execute()
    assert (await updates.next_data())["record"]["status"] == "running"
    await asyncio.sleep(0.2)
    inserts.assert_empty()
    narrow.assert_empty()


async def test_select_narrows_the_record(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    await a.client.realtime.set_auth(a.access_token)
    feed = Feed()
    channel = a.client.channel("jobs-narrow")
    channel.on_postgres_changes(Event.All, callback=feed.on_change, schema="public", table="processing_jobs",
                                select=["id", "status"])
    await channel.subscribe()
    job = await insert_job(service_client, a.id, payload={"big": "x" * 1000})
    data = await feed.next_data()
    assert data["record"] == {"id": job, "status": "queued"}
    assert [c["name"] for c in data["columns"]] == ["id", "status"]


async def test_delivery_latency(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    feed = await listen(a.client, a.access_token)
    job = await insert_job(service_client, a.id)
    await feed.next()
    samples: list[float] = []
    for i in range(20):
        started = time.perf_counter()
        await service_client.table("processing_jobs").update(
            {"payload": {"step": i}}).eq("id", job).execute()
        arrived, payload = await feed.next()
        assert payload["data"]["record"]["payload"] == {"step": i}
        samples.append(arrived - started)
    print(f"\nrealtime latency (REST update sent -> callback): median {statistics.median(samples) * 1000:.1f}"
          f" ms, max {max(samples) * 1000:.1f} ms")
    assert max(samples) < DEADLINE


async def test_leave_stops_delivery(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    left = await listen(a.client, a.access_token)
    kept = await listen(a.client, a.access_token)
    assert left.channel is not None
    await left.channel.unsubscribe()
    await asyncio.sleep(0.2)
    assert left.states[-1] == RealtimeSubscribeStates.CLOSED.value  # the leave was acknowledged
    job = await insert_job(service_client, a.id)
    assert (await kept.next_data())["record"]["id"] == job
    left.assert_empty()


async def test_invalid_access_token_closes_the_channel(
    user_factory: Factory, service_client: AsyncClient, clients: list[AsyncClient]
) -> None:
    a = await user_factory()
    clients.append(a.client)
    feed = await listen(a.client, a.access_token)
    await a.client.realtime.set_auth("not-a-jwt")
    await asyncio.sleep(0.3)
    assert RealtimeSubscribeStates.CLOSED.value in feed.states[1:]
    await insert_job(service_client, a.id)
    await asyncio.sleep(QUIET)
    feed.assert_empty()


async def test_heartbeat_over_raw_socket(stack: StackInfo) -> None:
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(json.dumps({"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "7"}))
        reply = await recv_json(ws)
        assert reply["event"] == "phx_reply" and reply["ref"] == "7"
        assert reply["payload"] == {"status": "ok", "response": {}}


@pytest.mark.parametrize("apikey", [None, "forged", "signed-with-another-secret"])
async def test_bad_apikey_is_refused(stack: StackInfo, apikey: str | None) -> None:
    if apikey == "signed-with-another-secret":
        apikey = jwt.encode({"role": "anon"}, "x" * 40, algorithm="HS256")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(ws_url(stack, apikey)):
            pass
    assert refused.value.response.status_code == 403


MALFORMED: list[str | bytes] = [
    "not json",
    "[1, 2, 3]",
    json.dumps({"event": "phx_join"}),
    json.dumps({"event": "phx_join", "topic": "realtime:x", "payload": "nope", "ref": "1"}),
    json.dumps({"event": "phx_join", "topic": "realtime:x", "ref": "1",
                "payload": {"config": {"postgres_changes": [{"event": "TRUNCATE", "schema": "public"}]}}}),
    json.dumps({"event": "phx_join", "topic": "realtime:x", "ref": "1",
                "payload": {"config": {"postgres_changes": "all"}}}),
    json.dumps({"event": "phx_join", "topic": "elsewhere", "payload": {}, "ref": "1"}),
    json.dumps({"event": "broadcast", "topic": "realtime:never-joined", "payload": {}, "ref": "1"}),
    json.dumps({"event": "dance", "topic": "phoenix", "payload": {}, "ref": "1"}),
    json.dumps({"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": {"a": 1}}),
    b"\x00\x01binary",
]


async def test_malformed_frames_get_error_replies(
    stack: StackInfo, user_factory: Factory, service_client: AsyncClient
) -> None:
    a = await user_factory()
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        for frame in MALFORMED:
            await ws.send(frame)
            reply = await recv_json(ws)
            assert reply["event"] == "phx_reply", frame
            assert reply["payload"]["status"] == "error", frame
            assert reply["payload"]["response"]["reason"], frame
        # The same socket still works: a proper join, then a change.
        await ws.send(join_frame("realtime:ok", "2", a.access_token, JOBS))
        joined = await recv_json(ws)
        assert joined["payload"]["status"] == "ok" and joined["ref"] == "2"
        system = await recv_json(ws)
        assert system["event"] == "system" and system["payload"]["status"] == "ok"
        assert system["payload"]["message"] == "Subscribed to PostgreSQL"
        job = await insert_job(service_client, a.id)
        change = await recv_json(ws)
        assert change["event"] == "postgres_changes" and change["payload"]["data"]["record"]["id"] == job
        assert change["payload"]["ids"] == [joined["payload"]["response"]["postgres_changes"][0]["id"]]


async def test_join_with_unknown_table_or_column_reports_a_system_error(stack: StackInfo) -> None:
    async with websockets.connect(ws_url(stack, stack.service_key)) as ws:
        for n, changes in enumerate([
            [{"event": "*", "schema": "public", "table": "no_such_table"}],
            [{"event": "*", "schema": "public", "table": "processing_jobs", "filter": "nope=eq.1"}],
            [{"event": "*", "schema": "public", "table": "processing_jobs", "filter": "status=like.x"}],
        ]):
            await ws.send(join_frame(f"realtime:bad{n}", str(n), None, changes))
            assert (await recv_json(ws))["payload"]["status"] == "ok"  # as real Realtime: reply, then
            system = await recv_json(ws)
            assert system["event"] == "system" and system["payload"]["status"] == "error"


async def test_expired_token_is_refused_at_join(stack: StackInfo, user_factory: Factory) -> None:
    a = await user_factory()
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(join_frame("realtime:old", "1", user_token(stack, a, -10), JOBS))
        reply = await recv_json(ws)
        assert reply["payload"]["status"] == "error"
        assert "expired" in reply["payload"]["response"]["reason"].lower()


async def test_token_expiry_closes_the_channel(
    stack: StackInfo, user_factory: Factory, service_client: AsyncClient
) -> None:
    a = await user_factory()
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(join_frame("realtime:short", "1", user_token(stack, a, 2), JOBS))
        assert (await recv_json(ws))["payload"]["status"] == "ok"
        await recv_json(ws)  # Subscribed to PostgreSQL
        system = await recv_until(ws, lambda m: m["event"] == "system", timeout=5)
        assert system["payload"]["status"] == "error" and "expired" in system["payload"]["message"].lower()
        closed = await recv_json(ws)
        assert closed["event"] == "phx_close" and closed["topic"] == "realtime:short"
        await insert_job(service_client, a.id)
        with pytest.raises(TimeoutError):
            await recv_json(ws, QUIET)


async def test_access_token_switches_whose_rows_are_visible(
    stack: StackInfo, user_factory: Factory, service_client: AsyncClient
) -> None:
    a, b = await user_factory(), await user_factory()
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(join_frame("realtime:who", "1", a.access_token, JOBS))
        await recv_json(ws)
        await recv_json(ws)
        await ws.send(json.dumps({"event": "access_token", "topic": "realtime:who",
                                  "payload": {"access_token": b.access_token}, "ref": "2", "join_ref": "1"}))
        assert (await recv_json(ws))["payload"]["status"] == "ok"
        await insert_job(service_client, a.id)
        job_b = await insert_job(service_client, b.id)
        change = await recv_json(ws)  # the first change this socket sees is B's, not A's
        assert change["payload"]["data"]["record"]["id"] == job_b


async def test_anon_sees_no_jobs(
    stack: StackInfo, user_factory: Factory, service_client: AsyncClient
) -> None:
    a = await user_factory()
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(join_frame("realtime:anon", "1", None, JOBS))
        assert (await recv_json(ws))["payload"]["status"] == "ok"
        await recv_json(ws)
        await insert_job(service_client, a.id)
        with pytest.raises(TimeoutError):
            await recv_json(ws, QUIET)


async def test_a_client_that_does_not_read_is_disconnected(
    stack: StackInfo, admin: asyncpg.Connection[asyncpg.Record], user_factory: Factory
) -> None:
    a = await user_factory()
    async with websockets.connect(
        ws_url(stack, stack.service_key), max_size=None, max_queue=1, compression=None
    ) as slow:
        await slow.send(join_frame("realtime:slow", "1", None, JOBS))
        await recv_json(slow)
        await recv_json(slow)
        # ~60 MB of changes (uncompressed on the wire), more than the server's per-socket budget
        # plus what the kernel's socket buffers can absorb.
        await admin.execute(
            "insert into public.processing_jobs (id, user_id, job_type, payload)"
            " select 'bulk-' || g || '-' || $2, $1, 'bulk', jsonb_build_object('blob', repeat('x', 100000))"
            " from generate_series(1, 600) g",
            uuid.UUID(a.id), uuid.uuid4().hex,
        )
        await asyncio.sleep(3)  # let the server fill up and give up on this reader
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(1000):
                await asyncio.wait_for(slow.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    # The server is fine, and serves everyone else.
    async with websockets.connect(ws_url(stack, stack.anon_key)) as ws:
        await ws.send(json.dumps({"event": "heartbeat", "topic": "phoenix", "payload": {}, "ref": "1"}))
        assert (await recv_json(ws))["payload"]["status"] == "ok"
