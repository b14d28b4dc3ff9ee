"""Who may read and write what: every operation of the OpenAPI document and every dashboard
page, called by six kinds of caller in a seeded world, on SQLite and on PostgreSQL.

How an outcome reads:
- allowed: a 2xx answer to a real call (real ids, a valid body), so a write really happened;
- no valid key (none, or a revoked one): 401; a dashboard page redirects to sign-in (303);
- a key of the wrong role, or of another project: 403;
- a site command of a project the key may not use, named by id: 404, as an unknown id is,
  so a command id tells an outsider nothing.

Writes that would destroy the seeded world (deleting, revoking, republishing, claiming) run
on disposable copies made for the callers allowed to do them; refused callers aim at the real
data, so a refusal protects something real. Every answer an artist key gets holds no secret
(settings secrets, other API keys, the session-signing secret), no answer to the artist of Q
holds data of P, and no line the server logs holds a secret.
"""
from __future__ import annotations

import logging
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from server_addon import auth, create_app
from server_addon.web import pages, signin
from server_addon.web.routing import PageRoute
from tests.conftest import ADMIN_KEY, API, Api, LiveServer
from tests.server.helpers import (artist_with_id, catalog_ids, make_project, ok,
                                  postgres_database, publish, stamp)

P, Q = "proj-p", "proj-q"
ANONYMOUS, REVOKED, ARTIST_P, ARTIST_Q, SERVICE, ADMIN = IDENTITIES = (
    "no-key", "revoked-key", "artist-P", "artist-Q", "service", "admin")
ARTISTS = (ARTIST_P, ARTIST_Q)
ARTIST_SITE = "ws-p"  # the machine of the artist of P: registered to that key

# -- the policy -------------------------------------------------------------------------------

OK = "2xx"
RULES: dict[str, tuple[int | str, ...]] = {
    #                      no-key revoked artist-P artist-Q service admin
    "public":             (OK,    OK,     OK,      OK,      OK,     OK),
    "any key":            (401,   401,    OK,      OK,      OK,     OK),
    "project":            (401,   401,    OK,      403,     OK,     OK),
    "project, hidden":    (401,   401,    OK,      404,     OK,     OK),
    "service":            (401,   401,    403,     403,     OK,     OK),
    "admin":              (401,   401,    403,     403,     403,    OK),
}
# By the operation's tag and method; an operation under a project path is for the keys that
# may use that project ("project"), on top of its role rule.
POLICY: dict[tuple[str, str], str] = {
    ("health", "GET"): "public",
    ("keys", "GET"): "admin", ("keys", "POST"): "admin", ("keys", "PUT"): "admin",
    ("keys", "DELETE"): "admin",
    ("projects", "GET"): "project", ("projects", "POST"): "admin",
    ("projects", "DELETE"): "admin",
    ("catalog", "GET"): "project", ("catalog", "POST"): "project",  # artists publish
    ("catalog", "PUT"): "project", ("catalog", "DELETE"): "service",
    ("sitesync settings", "GET"): "project", ("sitesync settings", "PUT"): "admin",
    ("sitesync events", "GET"): "project",  # asked for P's events
    ("sitesync services", "GET"): "any key", ("sitesync services", "POST"): "project",
    ("sitesync commands", "GET"): "project", ("sitesync commands", "POST"): "project",
    ("sitesync commands", "DELETE"): "project",
    ("sitesync pause", "GET"): "project", ("sitesync pause", "PUT"): "service",
    ("sitesync summary", "GET"): "project",
    ("sitesync state", "GET"): "project", ("sitesync state", "POST"): "project",
    ("sitesync state", "DELETE"): "project",
    ("sitesync work queue", "POST"): "project",
    ("sitesync failures", "GET"): "project", ("sitesync failures", "POST"): "project",
}
# Operations whose rule is not their group's, and why.
EXCEPTIONS: dict[str, str] = {
    "GET /api/keys/me": "any key",  # every key may see itself
    "GET /api/projects": "any key",  # lists the projects the key may use
    "GET {api}/settings": "any key",  # studio settings, masked for artists
    "PUT {api}/settings/{project}/site/{site_id}": "project",  # an artist's own machine
    "GET {api}/commands": "any key",  # claimable commands of the key's projects
    "POST {api}/commands/{command_id}/claim": "project, hidden",
    "POST {api}/commands/{command_id}/finish": "project, hidden",
    "GET {api}/pause": "any key",  # whether the server is paused
    "PUT {api}/{project}/state/{representation_id}/{site_name}/pause": "project",
    "GET {api}/summary": "any key",  # the key's projects only
}
# Dashboard pages, by path: as the API rules, with a redirect to sign-in instead of 401.
PAGE_POLICY: dict[str, str] = {
    "/": "any key", "/sites": "any key", "/projects/{name}": "project",
    "/projects/{name}/representations/{representation_id}": "project",
    "/projects/{name}/failures": "project", "/settings": "admin", "/keys": "admin",
}
OPEN_PAGES = frozenset({"/signin", "/signout"})  # the way in and out: open to everyone

# -- the seeded secrets -----------------------------------------------------------------------

S3_SECRET = "s3-secret-Wq8z1Hc3"
S3_SESSION_TOKEN = "s3-session-Jd7k2Lm9"
SFTP_PASSWORD = "sftp-password-Rv5t8Yb1"
SFTP_PASSPHRASE = "sftp-passphrase-Nc4x6Pe2"
UNKNOWN_TOKEN = "acme-token-Gh2j5Kq7"
UNKNOWN_API_SECRET = "acme-api-secret-Tz9m3Wd4"
URL_PASSWORD = "url-password-Bf6n1Sx8"
HEADER_SECRET = "header-bearer-Qp4w8Ez6"
URL_SIGNATURE = "url-signature-Mk2r9Ua3"
P_SFTP_PASSWORD = "p-sftp-password-Ly3c7Hv5"
P_CLIENT_SECRET = "p-client-secret-Xs5v1Ko8"
SETTINGS_SECRETS = (S3_SECRET, S3_SESSION_TOKEN, SFTP_PASSWORD, SFTP_PASSPHRASE, UNKNOWN_TOKEN,
                    UNKNOWN_API_SECRET, URL_PASSWORD, HEADER_SECRET, URL_SIGNATURE,
                    P_SFTP_PASSWORD, P_CLIENT_SECRET)

STUDIO_SETTINGS = {
    "enabled": True,
    "config": {"retry_cnt": 3, "loop_delay": 60, "always_accessible_on": [],
               "active_site": "studio", "remote_site": "studio"},
    "sites": [
        {"name": "cloud", "provider": "s3",
         "s3": {"bucket": "films", "access_key_id": "AKIAMATRIX",
                "secret_access_key": S3_SECRET, "session_token": S3_SESSION_TOKEN}},
        {"name": "vendor", "provider": "sftp",
         "sftp": {"host": "sftp.vendor.test", "user": "studio", "password": SFTP_PASSWORD,
                  "key_passphrase": SFTP_PASSPHRASE}},
        # a provider this server does not know: its secrets are found by their names
        {"name": "farm", "provider": "acme_cloud",
         "acme_cloud": {"token": UNKNOWN_TOKEN, "api_secret": UNKNOWN_API_SECRET,
                        "endpoint": f"https://render:{URL_PASSWORD}@acme.test/v1",
                        "upload_url": f"https://acme.test/up?expires=9&sig={URL_SIGNATURE}",
                        "headers": [{"name": "Authorization", "value": HEADER_SECRET},
                                    {"name": "X-Region", "value": "north"}],
                        "region": "north"}},
    ],
}
P_OVERRIDES = {"sites": [{"name": "p-vendor", "provider": "sftp",
                          "sftp": {"host": "sftp.p.test", "user": "p",
                                   "password": P_SFTP_PASSWORD}},
                         {"name": "p-drive", "provider": "acme_drive",
                          "acme_drive": {"oauth": {"clientId": "p-app",
                                                   "clientSecret": P_CLIENT_SECRET}}}]}
SITE_SETTINGS = {"active_site": "local", "remote_site": "studio",
                 "local_roots": [{"name": "work", "path": "/home/artist/work"}]}


# -- the operations, from the OpenAPI document ------------------------------------------------

@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as served
    tags: tuple[str, ...]
    path_params: tuple[str, ...]

    @property
    def name(self) -> str:  # the path with the addon's prefix spelled {api}
        return f"{self.method} {self.path.replace(API, '{api}')}"


def _schema() -> dict:
    """The app's OpenAPI document, from a throwaway database."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite:///{folder}/schema.db", admin_api_key=ADMIN_KEY)
        try:
            return app.openapi()
        finally:
            app.state.db.dispose()


def dashboard_pages() -> list[str]:
    """Paths of the dashboard's pages (left out of the OpenAPI document), from its routers."""
    return sorted({route.path for router in (pages.router, signin.router)
                   for route in router.routes
                   if isinstance(route, PageRoute) and "GET" in route.methods})


def operations(schema: dict) -> list[Operation]:
    found = []
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            found.append(Operation(method.upper(), path, tuple(spec.get("tags", ())),
                                   tuple(p["name"] for p in spec.get("parameters", ())
                                         if p["in"] == "path")))
    return found


OPERATIONS = operations(_schema())
PAGES = dashboard_pages()


def rule_of(operation: Operation) -> str:
    name = EXCEPTIONS.get(operation.name)
    if name is None:
        tag = operation.tags[0] if operation.tags else "(no tag)"
        name = POLICY.get((tag, operation.method))
    assert name is not None, (f"{operation.name} has no rule: add its tag and method to "
                              "POLICY, or the operation to EXCEPTIONS")
    return name


def expected(rule: str, who: str) -> int | str:
    return RULES[rule][IDENTITIES.index(who)]


# -- the seeded world -------------------------------------------------------------------------

class LogLines(logging.Handler):
    """Every line the server process logs while the matrix runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class World:
    server: LiveServer
    admin: Api
    clients: dict[str, Api]
    cookies: dict[str, str]  # each key's dashboard session (the revoked key's, before)
    ids: dict[str, str]  # path parameter -> an id of P's world
    secrets: list[str]
    p_markers: list[str]  # strings only P's data holds
    log: LogLines

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"


def sign_in(server: LiveServer, key: str) -> str:
    response = requests.post(f"{server.url}/signin", data={"key": key, "next": "/"},
                             allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return response.cookies[auth.SESSION_COOKIE]


def seed(server: LiveServer, log: LogLines) -> World:
    admin = Api(server.url, ADMIN_KEY)
    for project in (P, Q):
        make_project(admin, project)
        published = publish(admin, project, count=2)
        stamp(admin, project, published.ids, "studio", 4)
        stamp(admin, project, published.ids, "remote", 2)  # FAILED: a failure group
        if project == P:
            p_published = published
    ok(admin.put("{api}/settings", json=STUDIO_SETTINGS))
    ok(admin.put(f"{{api}}/settings/{P}", json=P_OVERRIDES))
    artist_p, artist_p_id = artist_with_id(admin, [P])
    artist_q, _ = artist_with_id(admin, [Q])
    service = admin.with_key(ok(admin.post("/api/keys", json={"role": "service"}), 201)["key"])
    revoked_key = ok(admin.post("/api/keys", json={"role": "artist", "projects": [P]}), 201)
    clients = {ANONYMOUS: admin.with_key(None), ARTIST_P: artist_p, ARTIST_Q: artist_q,
               SERVICE: service, ADMIN: admin,
               REVOKED: admin.with_key(revoked_key["key"])}
    cookies = {who: sign_in(server, client.session.headers["Authorization"][7:])
               for who, client in clients.items() if who != ANONYMOUS}
    ok(admin.delete(f"/api/keys/{revoked_key['id']}"))
    ok(artist_p.put(f"{{api}}/settings/{P}/site/{ARTIST_SITE}", json=SITE_SETTINGS))
    ok(artist_q.put(f"{{api}}/settings/{Q}/site/ws-q", json=SITE_SETTINGS))
    ok(heartbeat(artist_p, "svc-seeded", [P]), 204)
    command = ok(admin.post(f"{{api}}/{P}/sites/{ARTIST_SITE}/commands",
                            json={"action": "validate"}), 201)
    rep = p_published.representations[0]
    ids = {**catalog_ids(admin, P, rep), "project": P, "name": P, "site_id": ARTIST_SITE,
           "site_name": "studio", "key_id": artist_p_id, "command_id": command["id"]}
    keys = [client.session.headers["Authorization"][7:]
            for who, client in clients.items() if who != ANONYMOUS]
    secrets = [*SETTINGS_SECRETS, *keys, *cookies.values(),
               server.app.state.session_secret.hex()]
    markers = [P, command["id"], *p_published.ids, *p_published.version_ids,
               *(f["id"] for r in p_published.representations for f in r["files"])]
    return World(server, admin, clients, cookies, ids, secrets, markers, log)


def heartbeat(client: Api, service_id: str, projects: list[str], site: str = ARTIST_SITE
              ) -> requests.Response:
    return client.post("{api}/services/heartbeat", json={
        "serviceId": service_id, "site": site, "host": "workstation", "version": "1",
        "pid": 1, "projects": projects, "filesInFlight": 0, "bytesPerSecond": 0})


def service_id(who: str) -> str:
    return f"svc-{who}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'sitesync.db'}"
        yield from _serve(url)
    else:
        with postgres_database(request.getfixturevalue("pg_admin_engine")) as url:
            yield from _serve(url)


def _serve(url: str) -> Iterator[World]:
    live = LiveServer(create_app(url, admin_api_key=ADMIN_KEY))
    # uvicorn configures its loggers as the server is made: listen from then on, access
    # lines and the app's own logging included, at every level.
    log = LogLines()
    watched = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.access")]
    app_logger = logging.getLogger("server_addon")
    levels = {logger: logger.level for logger in [*watched, app_logger]}
    for logger in watched:
        logger.addHandler(log)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    logging.getLogger("uvicorn").setLevel(logging.INFO)
    app_logger.setLevel(logging.DEBUG)
    live.start()
    try:
        yield seed(live, log)
    finally:
        live.stop()
        for logger, level in levels.items():
            logger.setLevel(level)
            logger.removeHandler(log)


# -- requests: real ids, valid bodies, disposable targets -------------------------------------

def fresh_catalog(world: World) -> dict[str, str]:
    """A new folder of P with one product, version and representation."""
    published = publish(world.admin, P, folder=world.unique("sh"), files=1)
    return catalog_ids(world.admin, P, published.representations[0])


def fresh_item(kind: str) -> Callable[[World, str], dict[str, str]]:
    return lambda world, _who: {"item_id": fresh_catalog(world)[kind]}


def fresh_representation(world: World, _who: str) -> dict[str, str]:
    return {"representation_id": fresh_catalog(world)["representation_id"]}


def fresh_site_state(world: World, _who: str) -> dict[str, str]:
    site = world.unique("gone")
    stamp(world.admin, P, [world.ids["representation_id"]], site, 1)
    return {"site_name": site}


def fresh_project(world: World, _who: str) -> dict[str, str]:
    return {"project": make_project(world.admin, world.unique("doomed"))}


def fresh_key(world: World, _who: str) -> dict[str, str]:
    return {"key_id": artist_with_id(world.admin, [P])[1]}


def fresh_site(world: World, who: str) -> dict[str, str]:
    return {**fresh_key(world, who), "site_id": world.unique("ws")}


def fresh_bound_site(world: World, who: str) -> dict[str, str]:
    made = fresh_site(world, who)
    ok(world.admin.put(f"/api/keys/{made['key_id']}/sites/{made['site_id']}"))
    return made


def fresh_command(world: World, _who: str) -> dict[str, str]:
    command = ok(world.admin.post(f"{{api}}/{P}/sites/{ARTIST_SITE}/commands",
                                  json={"action": "validate"}), 201)
    return {"command_id": command["id"]}


def fresh_claimable(world: World, who: str) -> dict[str, str]:
    """A queued command on the artist's machine, and a live service of the caller there."""
    ok(heartbeat(world.clients[who], service_id(who), [P]), 204)
    return fresh_command(world, who)


def fresh_running(world: World, who: str) -> dict[str, str]:
    made = fresh_claimable(world, who)
    ok(world.clients[who].post(f"{{api}}/commands/{made['command_id']}/claim",
                               json={"serviceId": service_id(who)}))
    return made


def new_representation(world: World, _who: str) -> dict:
    return {"versionId": world.ids["version_id"], "name": world.unique("rep"),
            "files": [{"path": f"{{root[work]}}/{P}/matrix/{uuid.uuid4().hex}.exr",
                       "size": 1, "hash": "h"}]}


FILES = {"files": [{"path": "{root[work]}/proj-p/matrix/republished.exr", "size": 2}]}


@dataclass(frozen=True)
class Call:
    """How to call one operation."""

    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # JSON, or a function (world, caller) -> JSON
    path: dict[str, str] = field(default_factory=dict)  # path parameter -> key of World.ids
    fresh: Callable[[World, str], dict[str, str]] | None = None  # for allowed callers
    stream: bool = False


STATE = {"localSite": "studio", "remoteSite": "remote"}
CALLS: dict[str, Call] = {
    "GET /api/health": Call(),
    "GET /api/keys/me": Call(),
    "GET /api/keys": Call(),
    "POST /api/keys": Call(body={"role": "artist", "projects": [P]}),
    "DELETE /api/keys/{key_id}": Call(fresh=fresh_key),
    "PUT /api/keys/{key_id}/sites/{site_id}": Call(fresh=fresh_site),
    "DELETE /api/keys/{key_id}/sites/{site_id}": Call(fresh=fresh_bound_site),
    "GET /api/projects": Call(),
    "POST /api/projects": Call(body=lambda world, _who: {
        "name": world.unique("made"), "roots": {"work": {"linux": "/mnt/made"}}}),
    "GET /api/projects/{project}": Call(),
    "DELETE /api/projects/{project}": Call(fresh=fresh_project),
    "GET /api/projects/{project}/siteRoots": Call(),
    "POST /api/projects/{project}/folders": Call(body={"path": "sh010"}),
    "GET /api/projects/{project}/folders": Call(),
    "GET /api/projects/{project}/folders/{folder_id}": Call(),
    "POST /api/projects/{project}/products": Call(body=lambda world, _who: {
        "folderId": world.ids["folder_id"], "name": "render"}),
    "GET /api/projects/{project}/products": Call(),
    "GET /api/projects/{project}/products/{product_id}": Call(),
    "POST /api/projects/{project}/versions": Call(body=lambda world, _who: {
        "productId": world.ids["product_id"], "version": 1}),
    "GET /api/projects/{project}/versions": Call(),
    "GET /api/projects/{project}/versions/{version_id}": Call(),
    "POST /api/projects/{project}/representations": Call(body=new_representation),
    "GET /api/projects/{project}/representations": Call(),
    "PUT /api/projects/{project}/representations/{representation_id}": Call(
        body=FILES, fresh=fresh_representation),
    "GET /api/projects/{project}/representations/{representation_id}": Call(),
    "DELETE /api/projects/{project}/folders/{item_id}": Call(
        path={"item_id": "folder_id"}, fresh=fresh_item("folder_id")),
    "DELETE /api/projects/{project}/products/{item_id}": Call(
        path={"item_id": "product_id"}, fresh=fresh_item("product_id")),
    "DELETE /api/projects/{project}/versions/{item_id}": Call(
        path={"item_id": "version_id"}, fresh=fresh_item("version_id")),
    "DELETE /api/projects/{project}/representations/{item_id}": Call(
        path={"item_id": "representation_id"}, fresh=fresh_item("representation_id")),
    "GET {api}/settings": Call(),
    "PUT {api}/settings": Call(body=STUDIO_SETTINGS),  # the same settings again
    "GET {api}/settings/{project}": Call(),
    "PUT {api}/settings/{project}": Call(body=P_OVERRIDES),
    "GET {api}/settings/{project}/resolved": Call(query={"siteId": ARTIST_SITE}),
    "GET {api}/settings/{project}/site/{site_id}": Call(),
    "PUT {api}/settings/{project}/site/{site_id}": Call(body=SITE_SETTINGS),
    "GET {api}/events": Call(query={"project": P, "timeout": 0}),
    "GET {api}/events/stream": Call(query={"project": P}, stream=True),
    "POST {api}/services/heartbeat": Call(body=lambda _world, who: {
        "serviceId": service_id(who), "site": ARTIST_SITE, "host": "workstation",
        "version": "1", "pid": 1, "projects": [P], "filesInFlight": 0, "bytesPerSecond": 0}),
    "GET {api}/services": Call(),
    "GET {api}/commands": Call(query={"site": ARTIST_SITE}),
    "POST {api}/commands/{command_id}/claim": Call(
        body=lambda _world, who: {"serviceId": service_id(who)}, fresh=fresh_claimable),
    "POST {api}/commands/{command_id}/finish": Call(
        body=lambda _world, who: {"serviceId": service_id(who), "ok": True,
                                  "result": {"validated": 1}},
        fresh=fresh_running),
    "POST {api}/{project}/sites/{site_name}/commands": Call(
        path={"site_name": "site_id"}, body={"action": "validate"}),
    "GET {api}/{project}/commands": Call(),
    "DELETE {api}/{project}/commands/{command_id}": Call(fresh=fresh_command),
    "GET {api}/pause": Call(),
    "PUT {api}/pause": Call(body={"paused": False}),
    "GET {api}/{project}/pause": Call(),
    "PUT {api}/{project}/pause": Call(body={"paused": False}),
    "PUT {api}/{project}/state/{representation_id}/{site_name}/pause": Call(
        body={"paused": False}),
    "GET {api}/summary": Call(),
    "GET {api}/{project}/summary": Call(),
    "GET {api}/{project}/state": Call(query=STATE),
    "POST {api}/{project}/state/{representation_id}/{site_name}": Call(
        body={"priority": 60}),
    "DELETE {api}/{project}/state/{representation_id}/{site_name}": Call(
        fresh=fresh_site_state),
    "POST {api}/{project}/state/bulk": Call(body=lambda world, _who: {"items": [
        {"representationId": world.ids["representation_id"], "siteName": "backup",
         "status": 1}]}),
    "GET {api}/{project}/state/representations": Call(
        query={"representationIds": "{representation_id}"}),
    "GET {api}/{project}/params": Call(),
    "GET {api}/{project}/get_user_sites": Call(),
    "POST {api}/{project}/work/claim": Call(body=lambda _world, who: {
        "localSite": "idle-a", "remoteSite": "idle-b", "workerId": f"worker-{who}"}),
    "POST {api}/{project}/work/report": Call(body=lambda _world, who: {
        "workerId": f"worker-{who}", "reports": []}),
    "POST {api}/{project}/work/release": Call(body=lambda _world, who: {
        "workerId": f"worker-{who}"}),
    "POST {api}/{project}/reset_timer": Call(),
    "GET {api}/{project}/failures": Call(),
    "POST {api}/{project}/failures/retry": Call(body={"site": "remote", "message": ""}),
}


def _filled(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], template)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # empty for an event stream that was let through


def call(world: World, operation: Operation, who: str, allowed: bool) -> Answer:
    spec = CALLS.get(operation.name)
    assert spec is not None, (f"{operation.name} has no entry in CALLS: say how to call it "
                              "(ids, query, body)")
    ids = {name: world.ids[spec.path.get(name, name)] for name in operation.path_params}
    if allowed and spec.fresh is not None:
        ids |= spec.fresh(world, who)
    body = spec.body(world, who) if callable(spec.body) else spec.body
    query = {name: _filled(value, world.ids) if isinstance(value, str) else value
             for name, value in spec.query.items()}
    client = world.clients[who]
    response = client.session.request(
        operation.method, world.server.url + _filled(operation.path, ids), params=query,
        json=body, timeout=30, stream=spec.stream)
    if spec.stream and response.ok:
        response.close()  # the headers are the answer; the stream would never end
        return Answer(response.status_code, "")
    return Answer(response.status_code, response.text)


# -- the checks -------------------------------------------------------------------------------

def check_outcome(answer: Answer, want: int | str, what: str) -> None:
    got = answer.status
    if want == OK:
        assert 200 <= got < 300, f"{what}: expected 2xx, got {got}: {answer.text[:300]}"
    else:
        assert got == want, f"{what}: expected {want}, got {got}: {answer.text[:300]}"


def check_secrets(world: World, who: str, answer: Answer, what: str) -> None:
    """No secret in an answer to anyone but admin and service keys, nor in any log line;
    nothing of P in a successful answer to the artist of Q."""
    if who not in (SERVICE, ADMIN):
        shown = [s for s in world.secrets if s in answer.text]
        assert not shown, f"{what}: the answer shows secret(s) {shown}"
    if who == ARTIST_Q and 200 <= answer.status < 300:
        seen = [m for m in world.p_markers if m in answer.text]
        assert not seen, f"{what}: the artist of Q sees data of P: {seen[:3]}"
    logged = [line for line in world.log.lines if any(s in line for s in world.secrets)]
    assert not logged, f"{what}: the server logged a secret: {logged[0][:300]}"


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_operation(world: World, operation: Operation, who: str) -> None:
    want = expected(rule_of(operation), who)
    answer = call(world, operation, who, allowed=want == OK)
    what = f"{operation.name} as {who}"
    check_outcome(answer, want, what)
    check_secrets(world, who, answer, what)


@pytest.mark.parametrize("by", ["key", "cookie", "key, as JSON"])
@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("page", [p for p in PAGES if p not in OPEN_PAGES])
def test_page(world: World, page: str, who: str, by: str) -> None:
    """A page, by API key or by dashboard session, or its JSON twin (which answers 401
    where the page would send a browser to sign in)."""
    rule = PAGE_POLICY.get(page)
    assert rule is not None, f"page {page} has no rule: add it to PAGE_POLICY"
    want = expected(rule, who)
    as_json = by == "key, as JSON"
    if want == 401 and not as_json:
        want = 303
    headers = {"Accept": "text/html"}
    cookies = {}
    if by != "cookie" and who != ANONYMOUS:
        headers["Authorization"] = world.clients[who].session.headers["Authorization"]
    elif who in world.cookies:
        cookies[auth.SESSION_COOKIE] = world.cookies[who]
    response = requests.get(world.server.url + _filled(page, world.ids), headers=headers,
                            cookies=cookies, params={"format": "json"} if as_json else None,
                            allow_redirects=False, timeout=30)
    what = f"page {page} as {who} by {by}"
    check_outcome(Answer(response.status_code, response.text), want, what)
    if want == 303:
        assert response.headers["location"].startswith("/signin?next="), what
    check_secrets(world, who, Answer(response.status_code, response.text), what)


def test_the_artist_of_q_sees_nothing_of_p_unasked(world: World) -> None:
    """Listings that span projects leave out P for the artist of Q, when no project is named
    too (the matrix names P where an operation takes a project)."""
    artist_q = world.clients[ARTIST_Q]
    answers = {
        "events": artist_q.get("{api}/events", params={"after": 0, "timeout": 0}),
        "commands": artist_q.get("{api}/commands",
                                 params={"site": [ARTIST_SITE, "studio", "remote"]}),
        "services": artist_q.get("{api}/services"),
        "summary": artist_q.get("{api}/summary"),
        "projects": artist_q.get("/api/projects"),
    }
    for what, response in answers.items():
        check_outcome(Answer(response.status_code, response.text), OK, what)
        check_secrets(world, ARTIST_Q, Answer(response.status_code, response.text), what)
    assert ok(answers["events"])["events"], "the artist of Q has events of its own to see"


def test_every_operation_is_in_the_matrix(world: World) -> None:
    """The live server's document lists the operations the matrix was built from, and CALLS
    names no operation that is gone."""
    live = operations(ok(world.admin.get("/openapi.json")))
    assert sorted(op.name for op in live) == sorted(op.name for op in OPERATIONS)
    assert sorted(CALLS) == sorted(op.name for op in OPERATIONS)
    assert set(PAGE_POLICY) == set(PAGES) - OPEN_PAGES


def test_the_log_is_heard(world: World) -> None:
    """The secret check on log lines hears the server: an access line per request."""
    before = len(world.log.lines)
    ok(world.clients[ARTIST_P].get(f"/api/projects/{P}"))
    assert any(f"/api/projects/{P}" in line for line in world.log.lines[before:])


# Deleting a site's files goes by where the caller's own sync service runs: an artist key's
# service runs as its machine, never as a shared site of the settings nor as another key's
# machine, so that is the only site it may have files deleted on.
@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("site, rule", [(ARTIST_SITE, "project"), ("cloud", "service"),
                                        ("studio", "service"), ("ws-q", "service")])
def test_deleting_files_where_the_callers_service_runs(world: World, site: str, rule: str,
                                                       who: str) -> None:
    want = expected(rule, who)
    client = world.clients[who]
    what = f"a service of {who} running as {site}"
    beat = heartbeat(client, f"{service_id(who)}-{site}", [P], site=site)
    check_outcome(Answer(beat.status_code, beat.text), want, what)
    cleared = client.post(f"{{api}}/{P}/sites/{site}/commands", json={"action": "clear"})
    answer = Answer(cleared.status_code, cleared.text)
    if site == "studio" and expected("project", who) == OK:
        want = 400  # the studio holds the published files: no key has them deleted
    check_outcome(answer, want, f"clear {site} as {who}")
    check_secrets(world, who, answer, what)
