"""Test switches that make the devstack misbehave on purpose (for the player's recovery tests).

``POST /__devstack/faults`` with the **service key** (``apikey`` and ``Authorization: Bearer``)
and a JSON body changes them; ``GET`` returns them. Everything is off until a test turns it on.

- ``drop_streams`` (bool): object downloads are cut off mid-body: after ``drop_after_bytes``
  bytes (default 32768) the server closes the connection, as a dropped network link does.
- ``drop_count`` (int or null): how many downloads to cut before the switch turns itself off;
  null cuts every download while the switch is on.

- ``rest_delay_ms`` (int): every ``/rest/v1`` request waits this long before it is answered, as on
  a slow link ("slow mode"), so tests can check that the UI never waits for the network.

Example: ``{"drop_streams": true, "drop_after_bytes": 65536, "drop_count": 1}``; ``{}`` or
``{"drop_streams": false}`` turns it off.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from echogen_devstack.errors import gateway_error
from echogen_devstack.state import caller_claims
from echogen_devstack.tokens import TokenExpired, TokenInvalid


@dataclass
class Faults:
    drop_streams: bool = False
    drop_after_bytes: int = 32768
    drop_count: int | None = None
    rest_delay_ms: int = 0

    def take_stream_cut(self) -> int | None:
        """Bytes to send before cutting this download off, or None to send it whole."""
        if not self.drop_streams:
            return None
        if self.drop_count is not None:
            if self.drop_count <= 0:
                self.drop_streams = False
                return None
            self.drop_count -= 1
        return self.drop_after_bytes


class StreamDropped(Exception):
    """Raised inside a response body to make the server close the connection mid-body."""


class _QuietDrops(logging.Filter):
    """uvicorn logs every aborted response as an error; a planned drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, StreamDropped):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def faults_of_scope(scope: Scope) -> Faults:
    app = scope.get("app")
    state = getattr(app, "state", None)
    if state is None:
        return Faults()
    faults: Faults | None = getattr(state, "faults", None)
    if faults is None:
        faults = Faults()
        state.faults = faults
    return faults


async def rest_delay(scope: Scope) -> None:
    """The hook for REST requests: slow mode waits here before the request is served."""
    delay = faults_of_scope(scope).rest_delay_ms
    if delay:
        await asyncio.sleep(delay / 1000)


def stream_cut(scope: Scope) -> int | None:
    """The hook for the download loop: where to cut this response, if a fault is switched on."""
    return faults_of_scope(scope).take_stream_cut()


async def endpoint(request: Request) -> Response:
    try:
        claims = caller_claims(request)
    except (TokenExpired, TokenInvalid) as exc:
        return gateway_error(401, str(exc))
    except Exception:
        return gateway_error(401, "No API key found in request")
    if claims.get("role") != "service_role":
        return gateway_error(403, "The devstack fault switches need the service key.")
    faults = faults_of_scope(request.scope)
    if request.method == "POST":
        try:
            body: Any = await request.json()
        except ValueError:
            return gateway_error(400, "The body must be JSON.")
        if not isinstance(body, dict):
            return gateway_error(400, "The body must be a JSON object.")
        count = body.get("drop_count")
        faults.drop_streams = bool(body.get("drop_streams", False))
        faults.drop_after_bytes = max(0, int(body.get("drop_after_bytes", 32768)))
        faults.drop_count = None if count is None else int(count)
        faults.rest_delay_ms = max(0, int(body.get("rest_delay_ms", 0)))
    return JSONResponse(asdict(faults))
