"""Schemathesis over the live server's OpenAPI schema: no request may get a 5xx answer.

Every documented operation is called over real HTTP on loopback with generated valid and
invalid input (examples, coverage and fuzzing phases), on SQLite and on PostgreSQL. Responses
must also match their documented schema. A seeded project makes many generated requests name
real projects, representations and sites, so they reach the store code instead of a 404;
DELETEs run last, so they cannot remove that data from under the other operations.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import events

from tests.conftest import ADMIN_KEY, Api, LiveServer
from tests.server.helpers import make_project, ok, publish, stamp

MAX_EXAMPLES = 25
THOROUGH_EXAMPLES = 100
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance")
POLL_SECONDS = 0.05  # the long poll waits its whole timeout when no event comes


def seed(api: Api) -> dict[str, Any]:
    """A project 'proj' with a published representation that has state on two sites."""
    project = make_project(api, "proj")
    pub = publish(api, project, count=2)
    stamp(api, project, pub.ids, "studio", 2)
    stamp(api, project, pub.ids[:1], "remote", 1, priority=80)
    ok(api.put("{api}/settings/proj/site/studio", json={"active_site": "studio"}))
    rep = pub.representations[0]
    version = ok(api.get(f"/api/projects/{project}/versions/{rep['versionId']}"))
    product = ok(api.get(f"/api/projects/{project}/products/{version['productId']}"))
    return {
        "project": project, "representation_id": rep["id"], "representationId": rep["id"],
        "version_id": version["id"], "versionId": version["id"],
        "product_id": product["id"], "productId": product["id"],
        "folder_id": product["folderId"], "folderId": product["folderId"],
        "file_id": rep["files"][0]["id"], "fileId": rep["files"][0]["id"],
        "site_name": "studio", "siteName": "studio", "site_id": "studio", "site": "studio",
        "localSite": "studio", "remoteSite": "remote",
    }


def with_seeded(value: Any, known: dict[str, Any]) -> Any:
    """``value`` with every dict key that names seeded data set to that data."""
    if isinstance(value, dict):
        return {key: known[key] if key in known else with_seeded(item, known)
                for key, item in value.items()}
    if isinstance(value, list):
        return [with_seeded(item, known) for item in value]
    return value


def register_seed_hooks(schema: schemathesis.BaseSchema, known: dict[str, Any]) -> None:
    """Half of the generated parameters and bodies name the seeded project and its items."""

    def mixed(context: schemathesis.HookContext, strategy: st.SearchStrategy
              ) -> st.SearchStrategy:
        operation = context.operation
        if operation is not None and (operation.method.upper(), operation.path) == (
                "DELETE", "/api/projects/{project}"):
            return strategy  # deleting the seeded project would starve every later operation
        return st.one_of(strategy, strategy.map(lambda value: with_seeded(value, known)))

    for hook in ("before_generate_path_parameters", "before_generate_query",
                 "before_generate_body"):
        schema.hooks.register_hook_with_name(mixed, hook)


def short_poll(context: schemathesis.HookContext, case: schemathesis.Case,
               kwargs: dict[str, Any]) -> None:
    """Keep the long poll's valid timeouts short; invalid ones are still sent as generated."""
    if not case.operation.path.endswith("/events"):
        return
    query = case.query if isinstance(case.query, dict) else {}
    try:
        wait = float(query.get("timeout", 25))
    except (TypeError, ValueError):
        return
    if POLL_SECONDS < wait <= 60:
        case.query = {**query, "timeout": POLL_SECONDS}


@dataclass
class FuzzResult:
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def run_phases(schema: schemathesis.BaseSchema, result: FuzzResult) -> None:
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            result.problems += [f"{event.recorder.label}: {check.failure_info.failure.title}\n"
                                f"    {check.failure_info.code_sample}"
                                for checks in event.recorder.checks.values() for check in checks
                                if check.failure_info is not None]
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            result.problems.append(f"error: {event}")


def fuzz(server_url: str, known: dict[str, Any], *, max_examples: int) -> FuzzResult:
    """Fuzz every operation but DELETEs, then the DELETEs, so they can't starve the rest."""
    config = schemathesis.Config.from_dict({
        "headers": {"Authorization": f"Bearer {ADMIN_KEY}"},
        "request-timeout": 30,
        "generation": {"mode": "all", "max-examples": max_examples},
        # FastAPI declares no links, so the stateful phase would have nothing to chain.
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })
    schema = schemathesis.openapi.from_url(f"{server_url}/openapi.json", config=config)
    register_seed_hooks(schema, known)
    result = FuzzResult()

    def count(context: schemathesis.HookContext, case: schemathesis.Case,
              response: schemathesis.Response) -> None:
        result.statuses[response.status_code] += 1

    schema.hooks.register_hook_with_name(count, "after_call")
    # The event stream never ends; the long poll serves the same events.
    schema = schema.exclude(path_regex=r"/events/stream$")
    schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.register_hook_with_name(short_poll, "before_call")
    try:
        run_phases(schema.exclude(method="DELETE"), result)
        run_phases(schema.include(method="DELETE"), result)
    finally:
        schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.unregister(short_poll)
    return result


def check_fuzz(api: Api, server: LiveServer, **options: Any) -> None:
    started = time.monotonic()
    result = fuzz(server.url, seed(api), **options)
    print(f"\n{result.requests} requests in {time.monotonic() - started:.0f}s, "
          f"statuses {dict(sorted(result.statuses.items()))}")
    assert result.requests > 1000
    assert not [status for status in result.statuses if status >= 500]
    assert not result.problems, "\n".join(dict.fromkeys(result.problems))


def test_no_server_errors(api: Api, server: LiveServer) -> None:
    check_fuzz(api, server, max_examples=MAX_EXAMPLES)


@pytest.mark.slow
def test_no_server_errors_thorough(api: Api, server: LiveServer) -> None:
    check_fuzz(api, server, max_examples=THOROUGH_EXAMPLES)


# Input the generator never makes: JSON escapes of lone surrogates, NaN, NUL characters.
@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/projects/proj/folders", b'{"path": "\\ud800"}'),
    ("post", "/api/projects/proj/folders", b'{"\\ud800": "x"}'),
    ("post", "/api/projects/proj/folders", b'{"path": "a\\u0000b"}'),
    ("put", "{api}/settings", b'{"sites": [{"name": "s", "note": "\\udfff"}]}'),
    ("put", "{api}/settings", b'{"sites": [{"name": "s", "note": NaN}]}'),
    ("put", "{api}/settings/proj", b'{"sites": [{"name": "s", "\\ud800": 1}]}'),
    ("put", "{api}/settings/proj/site/ws", b'{"local_roots": [{"name": "\\ud800"}]}'),
    ("get", "/api/projects/pr%00oj", None),
    ("get", "/api/projects/proj/versions?task=%00", None),
    ("get", "{api}/proj/state?localSite=a&remoteSite=b&folderFilter=%00", None),
])
def test_odd_input_gets_a_clear_4xx(api: Api, method: str, path: str, body: bytes | None
                                     ) -> None:
    make_project(api, "proj")
    response = getattr(api, method)(path, data=body,
                                    headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.json()["detail"]
