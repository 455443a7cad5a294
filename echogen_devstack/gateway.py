"""The one HTTP app: ``/auth/v1``, ``/rest/v1`` and ``/storage/v1`` over one stack state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from echogen_devstack import auth_api, faults, realtime_ws, rest_api, storage_api
from echogen_devstack.state import StackState


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def build_app(stack: StackState) -> Starlette:
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/__devstack/faults", faults.endpoint, methods=["GET", "POST"]),  # test switches
            Mount("/auth/v1", routes=auth_api.routes()),
            Mount("/rest/v1", routes=rest_api.routes()),
            Mount("/storage/v1", routes=storage_api.routes()),
            WebSocketRoute("/realtime/v1/websocket", realtime_ws.endpoint),
        ]
    )
    app.state.stack = stack
    return app
