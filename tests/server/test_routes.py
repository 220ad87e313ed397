"""Every route of the one table (``server/routes.py``) answers its guard: a foreign Host or
browser Origin is refused everywhere, the token is required where the table says TOKEN, and
only there."""

from __future__ import annotations

import re

import httpx
import pytest

from spendtray.core import Core
from spendtray.server.routes import Access, Endpoint

# A concrete value for each path parameter; the proxy's upstream is one that does not exist,
# so a request the guard lets through is answered by the proxy itself, never forwarded.
PARAMS = {"model": "gpt-4o", "project": "acme", "upstream": "no-such-upstream", "rest": "/v1/x"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PARAMS[m.group(1)], path)


def calls(core: Core) -> list[tuple[Endpoint, str, str]]:
    return [(e, m, concrete(e.path)) for e in core.routes for m in e.methods if m != "HEAD"]


def test_the_table_lists_every_route_once(core: Core) -> None:
    keys = [(m, e.path) for e in core.routes for m in e.methods]
    assert len(keys) == len(set(keys))
    assert ("POST", "/v1/usage") in keys and ("GET", "/healthz") in keys
    # SPEC §4: only the health check, the identity proof (spendtray.identity: asked before
    # the token is sent) and the proxy (whose callers send their provider's key) go without
    # the token.
    open_paths = {e.path for e in core.routes if e.access is Access.LOOPBACK}
    assert open_paths == {
        "/healthz",
        "/v1/identity",
        "/p/{project}/{upstream}{rest:path}",
        "/proxy/{upstream}{rest:path}",
    }


def test_every_route_refuses_a_foreign_host_and_origin(core: Core) -> None:
    auth = {"Authorization": f"Bearer {core.token}"}
    with httpx.Client(base_url=core.url, timeout=10) as client:
        for _, method, path in calls(core):
            foreign_host = client.request(method, path, headers={**auth, "Host": "evil.example"})
            assert foreign_host.status_code == 403, (method, path, foreign_host.text)
            assert "Host" in foreign_host.json()["error"]["message"]
            origin = {**auth, "Origin": "https://evil.example"}
            foreign_origin = client.request(method, path, headers=origin)
            assert foreign_origin.status_code == 403, (method, path, foreign_origin.text)
            assert "origin" in foreign_origin.json()["error"]["message"]


def test_the_token_is_required_exactly_where_the_table_says(core: Core) -> None:
    with httpx.Client(base_url=core.url, timeout=10) as client:
        for endpoint, method, path in calls(core):
            missing = client.request(method, path)
            wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
            if endpoint.access is Access.TOKEN:
                assert missing.status_code == 401, (method, path, missing.text)
                assert wrong.status_code == 401, (method, path, wrong.text)
            else:
                assert missing.status_code not in (401, 403), (method, path, missing.text)


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v2/usage"])
def test_a_path_outside_the_table_is_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
