"""``/realtime/v1/websocket``: the Phoenix channel socket for ``postgres_changes``.

Handles heartbeat, phx_join, access_token and phx_leave. Broadcast and presence are not part
of the devstack (they get an error reply). A bad or missing ``apikey`` refuses the upgrade
(HTTP 403), as the real server does. Nothing a client sends can crash the socket: a frame the
server cannot act on gets an error ``phx_reply`` and the connection carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg
from starlette.websockets import WebSocket

from echogen_devstack import realtime_protocol as proto
from echogen_devstack.realtime import Realtime, realtime_of
from echogen_devstack.realtime_hub import Binding, BindingError, Outbox, Subscription, resolve_bindings
from echogen_devstack.realtime_protocol import Frame, ProtocolError
from echogen_devstack.state import StackState
from echogen_devstack.tokens import TokenExpired, TokenInvalid, verify

log = logging.getLogger(__name__)

SUBSCRIBED = "Subscribed to PostgreSQL"
UNABLE = (
    "Unable to subscribe to changes with given parameters. Please check Realtime is enabled "
    "for the given connect parameters: [{params}]"
)


async def endpoint(websocket: WebSocket) -> None:
    realtime = realtime_of(websocket.app)
    stack: StackState = websocket.app.state.stack
    apikey = websocket.query_params.get("apikey") or websocket.headers.get("apikey")
    if realtime is None or not apikey:
        await websocket.close(code=1008)  # before accept: the client sees HTTP 403
        return
    try:
        verify(apikey, stack.keys.secret)
    except (TokenExpired, TokenInvalid):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await Session(websocket, realtime, stack.keys.secret, apikey).run()


class Session:
    """One websocket: its joined channels and the single writer that owns the socket's output."""

    def __init__(self, websocket: WebSocket, realtime: Realtime, secret: str, apikey: str) -> None:
        self.ws = websocket
        self.realtime = realtime
        self.secret = secret
        self.apikey = apikey
        self.outbox = Outbox()
        self.channels: dict[str, Subscription] = {}
        self.client_gone = False

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            while not self.outbox.overflowed:
                try:
                    incoming = await self.ws.receive()
                except RuntimeError:  # the writer already closed the socket
                    break
                if incoming["type"] == "websocket.disconnect":
                    self.client_gone = True
                    break
                text = incoming.get("text")
                if text is None:
                    self.send(proto.reply(proto.PHOENIX_TOPIC, None, False,
                                          {"reason": "binary frames are not supported"}))
                    continue
                try:
                    await self.handle(text)
                except Exception:  # a bug in one frame's handling must not end the socket
                    log.exception("realtime: frame handling failed")
                    topic, ref = proto.best_effort_ids(text)
                    self.send(proto.reply(topic, ref, False, {"reason": "internal error"}))
        finally:
            for sub in self.channels.values():
                self.realtime.hub.remove(sub)
            self.channels.clear()
            self.outbox.hang_up()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, timeout=5)

    async def _write(self) -> None:
        while True:
            text = await self.outbox.take()
            if text is None:
                if not self.client_gone:
                    # Too slow a reader (or shutdown): 1013 "try again later"; the client reconnects.
                    with contextlib.suppress(Exception):
                        await self.ws.close(code=1013)
                return
            try:
                await self.ws.send_text(text)
            except Exception:
                return

    def send(self, msg: proto.Message) -> None:
        self.outbox.offer(msg)

    async def handle(self, text: str) -> None:
        try:
            frame = proto.parse_frame(text)
        except ProtocolError as exc:
            topic, ref = proto.best_effort_ids(text)
            self.send(proto.reply(topic, ref, False, {"reason": str(exc)}))
            return
        if frame.topic == proto.PHOENIX_TOPIC:
            ok = frame.event == "heartbeat"
            self.send(proto.reply(frame.topic, frame.ref, ok, {} if ok else {"reason": "unknown event"}))
            return
        if frame.event == "phx_join":
            await self.join(frame)
            return
        sub = self.channels.get(frame.topic)
        if sub is None:
            self.send(proto.reply(frame.topic, frame.ref, False, {"reason": "unmatched topic"}))
        elif frame.event == "phx_leave":
            self.leave(sub)
            self.send(proto.reply(frame.topic, frame.ref, True, {}, frame.join_ref))
        elif frame.event == "access_token":
            self.access_token(sub, frame)
        else:
            reason = f"{frame.event} is not supported by the devstack"
            self.send(proto.reply(frame.topic, frame.ref, False, {"reason": reason}, frame.join_ref))

    def _error(self, frame: Frame, reason: str) -> None:
        self.send(proto.reply(frame.topic, frame.ref, False, {"reason": reason}, frame.join_ref))

    async def join(self, frame: Frame) -> None:
        if not frame.topic.startswith(proto.TOPIC_PREFIX):
            self._error(frame, f"topic must start with {proto.TOPIC_PREFIX}")
            return
        token = frame.payload.get("access_token") or self.apikey
        if not isinstance(token, str):
            self._error(frame, "access_token must be a string")
            return
        try:
            claims = verify(token, self.secret)
        except TokenExpired:
            self._error(frame, "Token has expired")
            return
        except TokenInvalid as exc:
            self._error(frame, f"Invalid token: {exc}")
            return
        config = frame.payload.get("config", {})
        if isinstance(config, dict) and config.get("private") is True:
            self._error(frame, "private channels are not supported by the devstack")
            return
        try:
            specs = proto.parse_bindings(frame.payload)
        except ProtocolError as exc:
            self._error(frame, str(exc))
            return
        if (old := self.channels.pop(frame.topic, None)) is not None:
            self.realtime.hub.remove(old)  # a rejoin replaces the old subscription
        problem: str | None = None
        bindings: tuple[Binding, ...] = ()
        try:
            if specs:
                await self.realtime.sync_publication()
            bindings = await resolve_bindings(self.realtime.db, specs)
        except (BindingError, asyncpg.PostgresError) as exc:
            problem = str(exc)
        sub = Subscription(frame.topic, frame.join_ref or frame.ref, claims, bindings, self.outbox)
        self.channels[frame.topic] = sub
        # Registered before the reply: every change committed after subscribe() returns arrives.
        self.realtime.hub.add(sub)
        self._schedule_expiry(sub)
        response: dict[str, Any] = {"postgres_changes": [spec.reply() for spec in specs]}
        self.send(proto.reply(frame.topic, frame.ref, True, response, frame.join_ref))
        if problem is not None:
            params = ", ".join(f"schema: {s.schema}, table: {s.table}, filters: {s.filter}" for s in specs)
            log.info("realtime: join %s refused: %s", frame.topic, problem)
            self.send(proto.system(frame.topic, False, UNABLE.format(params=params)))
        elif specs:
            self.send(proto.system(frame.topic, True, SUBSCRIBED))

    def leave(self, sub: Subscription) -> None:
        self.realtime.hub.remove(sub)
        self.channels.pop(sub.topic, None)

    def access_token(self, sub: Subscription, frame: Frame) -> None:
        token = frame.payload.get("access_token")
        if not isinstance(token, str):
            self._error(frame, "access_token must be a string")
            return
        try:
            sub.claims = verify(token, self.secret)
        except TokenExpired:
            self._error(frame, "Token has expired")
            self.shut_down(sub, "Token has expired")
            return
        except TokenInvalid as exc:
            self._error(frame, f"Invalid token: {exc}")
            self.shut_down(sub, f"Invalid token: {exc}")
            return
        self._schedule_expiry(sub)
        self.send(proto.reply(frame.topic, frame.ref, True, {}, frame.join_ref))

    def shut_down(self, sub: Subscription, reason: str) -> None:
        """End a channel as Realtime does: a system error, then phx_close."""
        self.leave(sub)
        self.send(proto.system(sub.topic, False, reason, extension="system"))
        self.send(proto.close(sub.topic, sub.join_ref))

    def _schedule_expiry(self, sub: Subscription) -> None:
        if sub.expiry is not None:
            sub.expiry.cancel()
            sub.expiry = None
        exp = sub.claims.get("exp")
        if isinstance(exp, (int, float)):
            sub.expiry = asyncio.create_task(self._expire(sub, max(0.0, exp - time.time())))

    async def _expire(self, sub: Subscription, delay: float) -> None:
        await asyncio.sleep(delay)
        sub.expiry = None  # so leave() does not cancel the task that is running it
        if self.channels.get(sub.topic) is sub:
            self.shut_down(sub, "Token has expired")
