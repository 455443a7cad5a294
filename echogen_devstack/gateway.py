"""The one HTTP app: ``/auth/v1``, ``/rest/v1`` and ``/storage/v1`` over one stack state."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from echogen_devstack import auth_api, faults, realtime_ws, rest_api, storage_api
from echogen_devstack.errors import gateway_error
from echogen_devstack.state import ApiKeyInvalid, ApiKeyMissing, StackState, check_project_key

INVALID_KEY_HINT = "Double check your Supabase `anon` or `service_role` API key."


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def key_auth(app: ASGIApp) -> ASGIApp:
    """Supabase's gateway in front of Auth and PostgREST: only the project's own keys get through.

    (Storage checks its JWTs itself, and signed URLs carry no key, as on Supabase.)
    """

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            try:
                check_project_key(request.app.state.stack,
                                  request.headers.get("apikey") or request.query_params.get("apikey"))
            except ApiKeyMissing as exc:
                await gateway_error(401, str(exc))(scope, receive, send)
                return
            except ApiKeyInvalid as exc:
                await gateway_error(401, str(exc), INVALID_KEY_HINT)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def build_app(stack: StackState) -> Starlette:
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/__devstack/faults", faults.endpoint, methods=["GET", "POST"]),  # test switches
            Mount("/auth/v1", app=key_auth(Router(routes=auth_api.routes()))),
            Mount("/rest/v1", app=key_auth(Router(routes=rest_api.routes()))),
            Mount("/storage/v1", routes=storage_api.routes()),
            WebSocketRoute("/realtime/v1/websocket", realtime_ws.endpoint),
        ]
    )
    app.state.stack = stack
    return app
