"""GoTrue contract: the unmodified supabase-py async client against the devstack's /auth/v1."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest
from postgrest.exceptions import APIError
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from echogen_desktop.services.errors import ErrorKind, from_exception
from tests.conftest import StackInfo, TestUser, make_client

UserFactory = Callable[[], Awaitable[TestUser]]


async def test_sign_up_returns_a_session_with_the_documented_claims(
    stack: StackInfo, user_factory: UserFactory
) -> None:
    user = await user_factory()
    claims = jwt.decode(user.access_token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert claims["sub"] == user.id
    assert claims["role"] == "authenticated"
    assert claims["email"] == user.email
    assert claims["aal"] == "aal1" and claims["session_id"]
    assert claims["exp"] > time.time() + 60
    fetched = await user.client.auth.get_user()
    assert fetched is not None and fetched.user.email == user.email


async def test_sign_up_creates_the_profile_row(user_factory: UserFactory) -> None:
    user = await user_factory()
    rows = (await user.client.table("profiles").select("id").execute()).data
    assert rows == [{"id": user.id}]


async def test_duplicate_sign_up_is_user_already_exists(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    client = await make_client(stack, stack.anon_key, http)
    with pytest.raises(AuthApiError) as err:
        await client.auth.sign_up({"email": user.email, "password": "another password"})
    assert err.value.code == "user_already_exists" and err.value.status == 422


async def test_weak_password_and_bad_email_are_rejected(stack: StackInfo, http: httpx.AsyncClient) -> None:
    client = await make_client(stack, stack.anon_key, http)
    with pytest.raises(AuthWeakPasswordError) as weak:
        await client.auth.sign_up({"email": f"{uuid.uuid4().hex}@example.test", "password": "123"})
    assert weak.value.status == 422 and weak.value.reasons == ["length"]
    with pytest.raises(AuthApiError) as bad:
        await client.auth.sign_up({"email": "not-an-email", "password": "long enough pw"})
    assert bad.value.code == "validation_failed" and bad.value.status == 400


async def test_password_sign_in_and_wrong_password(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    client = await make_client(stack, stack.anon_key, http)
    session = (await client.auth.sign_in_with_password({"email": user.email, "password": user.password})).session
    assert session is not None and session.user.id == user.id
    with pytest.raises(AuthApiError) as err:
        await client.auth.sign_in_with_password({"email": user.email, "password": "wrong password"})
    assert err.value.code == "invalid_credentials" and err.value.status == 400
    with pytest.raises(AuthApiError) as unknown:
        await client.auth.sign_in_with_password({"email": "nobody@example.test", "password": "whatever1"})
    assert unknown.value.code == "invalid_credentials"


async def test_refresh_rotates_and_a_reused_token_ends_the_session(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    first = user.refresh_token
    rotated = (await user.client.auth.refresh_session(first)).session
    assert rotated is not None and rotated.refresh_token != first
    thief = await make_client(stack, stack.anon_key, http)
    with pytest.raises(AuthApiError) as err:
        await thief.auth.refresh_session(first)
    assert err.value.code == "refresh_token_already_used"
    # Reuse revokes the whole family: the legitimate newer token dies too.
    with pytest.raises(AuthApiError) as family:
        await thief.auth.refresh_session(rotated.refresh_token)
    assert family.value.code in {"refresh_token_not_found", "refresh_token_already_used"}
    with pytest.raises(AuthApiError) as gone:
        await thief.auth.refresh_session("no-such-token")
    assert gone.value.code == "refresh_token_not_found"


async def test_update_user_name_and_password(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    updated = await user.client.auth.update_user({"password": "a brand new secret", "data": {"full_name": "Ava"}})
    assert updated is not None and updated.user.user_metadata["full_name"] == "Ava"
    client = await make_client(stack, stack.anon_key, http)
    with pytest.raises(AuthApiError):
        await client.auth.sign_in_with_password({"email": user.email, "password": user.password})
    ok = await client.auth.sign_in_with_password({"email": user.email, "password": "a brand new secret"})
    assert ok.session is not None


async def test_expired_access_token_is_rejected_by_rest_with_pgrst303(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    now = int(time.time())
    expired = jwt.encode(
        {"sub": user.id, "role": "authenticated", "aud": "authenticated", "iat": now - 120, "exp": now - 60},
        stack.jwt_secret, algorithm="HS256",
    )
    client = await make_client(stack, stack.anon_key, http)
    client.postgrest.auth(expired)
    with pytest.raises(APIError) as err:
        await client.table("profiles").select("*").execute()
    assert err.value.code == "PGRST303"


async def _sign_in(stack: StackInfo, user: TestUser, http: httpx.AsyncClient) -> tuple[object, str]:
    client = await make_client(stack, stack.anon_key, http)
    session = (await client.auth.sign_in_with_password({"email": user.email, "password": user.password})).session
    assert session is not None
    return client, session.refresh_token


@pytest.mark.parametrize(
    ("scope", "survivors"),
    [("local", {"b", "c"}), ("others", {"a"}), ("global", set())],
)
async def test_logout_scopes(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient, scope: str, survivors: set[str]
) -> None:
    user = await user_factory()
    sessions = {name: await _sign_in(stack, user, http) for name in ("a", "b", "c")}
    client_a = sessions["a"][0]
    await client_a.auth.sign_out({"scope": scope})  # type: ignore[attr-defined]
    alive = set()
    for name, (_, refresh) in sessions.items():
        probe = await make_client(stack, stack.anon_key, http)
        try:
            await probe.auth.refresh_session(refresh)
            alive.add(name)
        except AuthApiError:
            pass
    assert alive == survivors


async def test_get_user_after_logout_is_session_not_found(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    response = await http.post(
        f"{stack.url}/auth/v1/logout?scope=local",
        headers={"apikey": stack.anon_key, "Authorization": f"Bearer {user.access_token}"},
    )
    assert response.status_code == 204
    me = await http.get(
        f"{stack.url}/auth/v1/user",
        headers={"apikey": stack.anon_key, "Authorization": f"Bearer {user.access_token}"},
    )
    assert me.status_code == 403 and me.json()["code"] == "session_not_found"


async def test_anon_key_on_user_endpoint_is_bad_jwt(stack: StackInfo, http: httpx.AsyncClient) -> None:
    me = await http.get(
        f"{stack.url}/auth/v1/user",
        headers={"apikey": stack.anon_key, "Authorization": f"Bearer {stack.anon_key}"},
    )
    assert me.status_code == 403 and me.json()["code"] == "bad_jwt"


async def test_missing_api_key_and_malformed_bodies(stack: StackInfo, http: httpx.AsyncClient) -> None:
    no_key = await http.post(f"{stack.url}/auth/v1/token?grant_type=password", json={})
    assert no_key.status_code == 401
    bad_json = await http.post(
        f"{stack.url}/auth/v1/token?grant_type=password",
        content=b"{not json", headers={"apikey": stack.anon_key, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "validation_failed"
    bad_grant = await http.post(
        f"{stack.url}/auth/v1/token?grant_type=magic", json={}, headers={"apikey": stack.anon_key}
    )
    assert bad_grant.status_code == 400
    health = await http.get(f"{stack.url}/health")
    assert health.status_code == 200


async def test_passwords_are_stored_hashed(stack: StackInfo, user_factory: UserFactory) -> None:
    import asyncpg

    user = await user_factory()
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        stored = await conn.fetchval("select encrypted_password from auth.users where id = $1", uuid.UUID(user.id))
        tokens = await conn.fetch("select token from auth.refresh_tokens where user_id = $1", uuid.UUID(user.id))
    finally:
        await conn.close()
    assert stored.startswith("$2") and user.password not in stored
    assert all(row["token"] != user.refresh_token for row in tokens)


async def test_admin_users_need_the_service_key(
    stack: StackInfo, user_factory: UserFactory, http: httpx.AsyncClient
) -> None:
    user = await user_factory()
    as_user = {"apikey": stack.anon_key, "Authorization": f"Bearer {user.access_token}"}
    refused = await http.get(f"{stack.url}/auth/v1/admin/users", headers=as_user)
    assert refused.status_code == 403 and refused.json()["code"] == "not_admin"
    service = {"apikey": stack.service_key, "Authorization": f"Bearer {stack.service_key}"}
    email = f"admin-made-{uuid.uuid4().hex[:8]}@example.test"
    made = await http.post(f"{stack.url}/auth/v1/admin/users", headers=service,
                           json={"email": email, "password": "long enough pw", "email_confirm": True})
    assert made.status_code == 200 and made.json()["email"] == email
    listed = await http.get(f"{stack.url}/auth/v1/admin/users", headers=service)
    assert email in {u["email"] for u in listed.json()["users"]}
    gone = await http.delete(f"{stack.url}/auth/v1/admin/users/{made.json()['id']}", headers=service)
    assert gone.status_code == 200
    missing = await http.get(f"{stack.url}/auth/v1/admin/users/{made.json()['id']}", headers=service)
    assert missing.status_code == 404 and missing.json()["code"] == "user_not_found"


async def test_the_gateway_lets_only_the_projects_own_keys_through(
    stack: StackInfo, http: httpx.AsyncClient, user_factory: UserFactory
) -> None:
    """As Supabase's gateway does for Auth and PostgREST: a key signed elsewhere, or a user's token, is refused."""
    user = await user_factory()
    now = int(time.time())
    other_project = jwt.encode({"iss": "supabase-demo", "role": "anon", "iat": now, "exp": now + 3600},
                               "another-project-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    refused = {"message": "Invalid API key", "hint": "Double check your Supabase `anon` or `service_role` API key."}
    for path in ("/auth/v1/settings", "/rest/v1/profiles"):
        for key in (other_project, user.access_token, "not-a-jwt"):
            response = await http.get(stack.url + path, headers={"apikey": key})
            assert (response.status_code, response.json()) == (401, refused), (path, key[:12])
        for key in (stack.anon_key, stack.service_key):  # past the gateway: the API itself answers
            response = await http.get(stack.url + path, headers={"apikey": key})
            assert response.status_code == 200 or response.json().get("code") == "42501", (path, response.text)
    client = await make_client(stack, other_project, http)
    with pytest.raises(AuthApiError) as signing_in:  # supabase-py meets it at the first call
        await client.auth.sign_in_with_password({"email": user.email, "password": user.password})
    with pytest.raises(APIError) as reading:
        await client.table("profiles").select("id").execute()
    for raised in (signing_in.value, reading.value):  # and the app says what it means
        error = from_exception(raised)
        assert (error.kind, error.message) == (ErrorKind.INVALID_INPUT, "The server refused this anon key.")
