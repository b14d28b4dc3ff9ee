"""The s3 provider against SeaweedFS on 127.0.0.1: what the conformance suite does not cover
(multipart aborts, stored hashes, reachability, errors mid-stream), and the sync service end
to end: studio -> S3 site -> a second workstation."""
from __future__ import annotations

import io
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sitesync_addon import SiteSyncAddon, hashing
from sitesync_addon.contract.files import template_to_site_path
from sitesync_addon.engine.service import SyncService
from sitesync_addon.engine.temp_files import TEMP_SUFFIX, TempJournal
from sitesync_addon.engine.transfer import TransferRequest, transfer
from sitesync_addon.errors import (
    AuthFailed,
    NotFound,
    ProviderError,
    SiteUnavailable,
    TransferCancelled,
    Transient,
    VerificationFailed,
)
from sitesync_addon.hashing import hash_file
from sitesync_addon.providers.base import FileStat
from sitesync_addon.providers.s3 import HASH_METADATA, S3Provider
from sitesync_addon.testing.conformance import HalfWay, Local, payload
from tests.conftest import ADMIN_KEY, free_port
from tests.servers.seaweedfs import SeaweedFS, shared_seaweedfs
from tests.sqlite_only import sqlite_database_url  # noqa: F401  (the server on SQLite)
from tests.studio import PROJECT

MIB = 1024 * 1024
SITE = "cloud"


def blake3_of(data: bytes) -> str:
    hasher = hashing.new_hasher("blake3")
    hasher.update(data)
    return f"blake3:{hasher.hexdigest()}"


@pytest.fixture(scope="session")
def seaweedfs(request: pytest.FixtureRequest) -> SeaweedFS:
    return shared_seaweedfs(request)


@pytest.fixture
def prefix() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def provider(seaweedfs: SeaweedFS, prefix: str) -> S3Provider:
    return S3Provider("cloud", seaweedfs.settings(prefix), {})


def upload(provider: S3Provider, tmp_path: Path, path: str, data: bytes,
           content_hash: str | None = None, **kwargs: object) -> str:
    local = Local(tmp_path / "local")
    local.put(path, data)
    request = TransferRequest(local.provider, provider, path, len(data),
                              content_hash or blake3_of(data))
    return transfer(request, TempJournal(tmp_path / "journal"), **kwargs)  # type: ignore[arg-type]


# -- the provider -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1000, 20 * MIB + 3])  # one PUT, multipart
def test_the_published_hash_is_stored_and_stat_returns_it(provider, seaweedfs, prefix,
                                                          tmp_path, size):
    data = payload(size, 9)
    upload(provider, tmp_path, "work/p/h.bin", data)
    fresh = S3Provider("cloud", seaweedfs.settings(prefix), {})  # knows nothing of the write
    assert fresh.stat("work/p/h.bin") == FileStat(size, blake3_of(data))
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=f"{prefix}/work/p/h.bin")
    assert head["Metadata"][HASH_METADATA] == blake3_of(data)
    assert head["ContentLength"] == size


@pytest.mark.parametrize("size", [1000, 20 * MIB + 3])
def test_bytes_that_miss_the_published_hash_leave_no_object(provider, tmp_path, size):
    data = payload(size, 1)
    wrong = blake3_of(payload(size, 2))
    with pytest.raises(VerificationFailed):
        upload(provider, tmp_path, "work/p/bad.bin", data, content_hash=wrong)
    assert provider.stat("work/p/bad.bin") is None


def test_an_interrupted_multipart_upload_is_aborted(provider, seaweedfs, prefix, tmp_path):
    data = payload(40 * MIB, 3)
    stop = HalfWay(len(data))
    with pytest.raises(TransferCancelled):
        upload(provider, tmp_path, "work/p/cut.bin", data, progress=stop.progress,
               should_stop=stop)
    client = seaweedfs.client()
    uploads = client.list_multipart_uploads(Bucket=seaweedfs.bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=seaweedfs.bucket, Prefix=prefix)["KeyCount"] == 0


def test_a_download_is_one_streamed_get(provider, tmp_path):
    data = payload(20 * MIB + 5, 6)
    upload(provider, tmp_path, "work/p/big.bin", data)
    ranges: list[str | None] = []

    def record(params: dict, **kwargs: object) -> None:
        ranges.append(params.get("Range"))

    events = provider._client.meta.events  # the client is shared: unregister afterwards
    events.register("provide-client-params.s3.GetObject", record)
    try:
        seen: list[int] = []
        back = Local(tmp_path / "back")
        request = TransferRequest(provider, back.provider, "work/p/big.bin", len(data),
                                  blake3_of(data))
        transfer(request, TempJournal(tmp_path / "journal"), progress=seen.append)
    finally:
        events.unregister("provide-client-params.s3.GetObject", record)
    assert back.get("work/p/big.bin") == data
    assert seen == sorted(seen) and seen[-1] == len(data)
    assert ranges == [None]  # one GET, streamed

    stop, cut = HalfWay(len(data)), Local(tmp_path / "cut")
    request = TransferRequest(provider, cut.provider, "work/p/big.bin", len(data), None)
    with pytest.raises(TransferCancelled):
        transfer(request, TempJournal(tmp_path / "journal"), progress=stop.progress,
                 should_stop=stop)
    assert not [p for p in cut.folder.rglob("*") if p.is_file()]


def test_features_an_atomic_store_that_never_renames(provider):
    features = provider.features
    assert features.atomic_write and features.hash_on_write and features.server_side_copy
    assert not features.rename and not features.local_path


def test_copy_keeps_bytes_and_hash_on_the_server(provider, tmp_path):
    data = payload(5000, 4)
    upload(provider, tmp_path, "work/p/a.bin", data)
    provider.copy("work/p/a.bin", "work/q/b.bin")
    assert provider.stat("work/p/a.bin") is not None
    assert provider.stat("work/q/b.bin").content_hash == blake3_of(data)  # type: ignore
    with provider.open_read("work/q/b.bin") as stream:
        assert stream.read() == data
    with pytest.raises(NotFound, match="work/p/none.bin"):
        provider.copy("work/p/none.bin", "work/q/c.bin")


def test_a_write_returns_what_was_stored_without_a_head(provider):
    heads: list[object] = []
    events = provider._client.meta.events
    events.register("provide-client-params.s3.HeadObject", lambda **kw: heads.append(kw))
    try:
        stored = provider.write("work/w/a.bin", io.BytesIO(b"12345"), 5, content_hash="md5:x")
    finally:
        events.unregister("provide-client-params.s3.HeadObject")
    assert stored == FileStat(5, "md5:x") and heads == []


def test_open_write_uploads_on_a_clean_close_only(provider):
    with provider.open_write("work/w/kept.bin") as stream:
        stream.write(b"kept")
    with pytest.raises(RuntimeError), provider.open_write("work/w/dropped.bin") as stream:
        stream.write(b"half")
        raise RuntimeError("the writer failed half-way")
    assert provider.stat("work/w/kept.bin").size == 4  # type: ignore[union-attr]
    assert provider.stat("work/w/dropped.bin") is None


def test_list_follows_pages_and_strips_the_prefix(provider, seaweedfs, prefix):
    client = seaweedfs.client()
    keys = [f"work/many/{index:04d}.bin" for index in range(1005)]  # past one 1,000-key page
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=seaweedfs.bucket,
                                                    Key=f"{prefix}/{key}", Body=b"x"), keys))
    assert sorted(provider.list("work/many")) == keys
    assert list(provider.list("work/none")) == []


def test_the_storage_class_is_sent(seaweedfs, prefix, tmp_path):
    settings = {**seaweedfs.settings(prefix), "storage_class": "STANDARD_IA"}
    provider = S3Provider("cloud", settings, {})
    upload(provider, tmp_path, "work/p/ia.bin", payload(100))
    head = seaweedfs.client().head_object(Bucket=seaweedfs.bucket, Key=f"{prefix}/work/p/ia.bin")
    assert head.get("StorageClass") == "STANDARD_IA"


@pytest.mark.parametrize("change", ["secret", "bucket", "endpoint"])
def test_is_active_is_false_when_the_store_cannot_be_used(seaweedfs, prefix, change):
    settings = seaweedfs.settings(prefix)
    if change == "secret":
        settings["secret_access_key"] = "wrong"
    elif change == "bucket":
        settings["bucket"] = f"missing-{uuid.uuid4().hex[:8]}"
    else:  # nothing listens there
        settings["endpoint_url"] = f"http://127.0.0.1:{free_port()}"
    assert S3Provider("cloud", settings, {}).is_active() is False


def test_refused_credentials_name_the_site_and_what_to_do(seaweedfs, prefix):
    provider = S3Provider("cloud", seaweedfs.settings(prefix, secret="wrong"), {})
    with pytest.raises(AuthFailed, match="site 'cloud'.*check the site's keys"):
        provider.stat("work/p/x.bin")
    with pytest.raises(AuthFailed):
        provider.write("work/p/x.bin", io.BytesIO(b"x"), 1)


def test_a_closed_port_holds_the_site(seaweedfs, prefix):
    closed = S3Provider("cloud", {**seaweedfs.settings(prefix),
                                  "endpoint_url": f"http://127.0.0.1:{free_port()}"}, {})
    with pytest.raises(SiteUnavailable, match="reachable") as raised:
        closed.stat("work/p/x.bin")
    assert not isinstance(raised.value, AuthFailed)


class Throttling:
    """A one-shot HTTP server on 127.0.0.1 answering every request with 503 SlowDown."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        body = (b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                b"</Message></Error>")
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.requests += 1
                conn.sendall(b"HTTP/1.1 503 Slow Down\r\nRetry-After: 7\r\n"
                             b"Content-Type: application/xml\r\nConnection: close\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                             + body)


def test_throttling_is_transient_with_retry_after_after_two_tries_at_most(prefix):
    server = Throttling()
    try:
        provider = S3Provider("cloud", {"bucket": "b", "endpoint_url": server.url,
                                        "region": "us-east-1", "access_key_id": "k",
                                        "secret_access_key": "s", "prefix": prefix}, {})
        with pytest.raises(Transient, match="SlowDown") as raised:
            provider.write("work/p/x.bin", io.BytesIO(b"x"), 1)
        assert raised.value.retry_after == 7
        assert server.requests <= 2  # botocore's attempts are bounded: the engine backs off
    finally:
        server.sock.close()


def test_an_error_while_reading_the_body_is_translated(provider, tmp_path):
    upload(provider, tmp_path, "work/p/r.bin", payload(1000))
    stream = provider.open_read("work/p/r.bin")
    stream.raw._raw_stream.close()  # type: ignore[attr-defined]  the connection goes away
    with pytest.raises(ProviderError) as raised:
        stream.read()
    assert "work/p/r.bin" in str(raised.value) and "site 'cloud'" in str(raised.value)


def test_invalid_settings_are_a_clear_error_without_secrets():
    with pytest.raises(ProviderError, match="invalid s3 settings: addressing_style") as raised:
        S3Provider("cloud", {"bucket": "b", "addressing_style": "sideways",
                             "secret_access_key": "hunter2"}, {})
    assert "hunter2" not in str(raised.value)


# -- the server's settings --------------------------------------------------------------------

def test_the_server_validates_s3_site_blocks(seaweedfs, api):
    settings = "{api}/settings"
    good = {"name": SITE, "provider": "s3", "s3": seaweedfs.settings("x")}
    assert api.put(settings, json={"sites": [good]}).status_code == 200
    missing = api.put(settings, json={"sites": [{"name": SITE, "provider": "s3"}]})
    assert missing.status_code == 422 and "needs a 's3' block" in missing.json()["detail"]
    unknown = api.put(settings, json={"sites": [{**good, "s3": {"bucket": "b", "nope": 1}}]})
    assert unknown.status_code == 422
    stored = api.get(settings).json()["sites"]
    assert [site["s3"]["bucket"] for site in stored] == [seaweedfs.bucket]


# -- end to end -------------------------------------------------------------------------------

def run(thread: SyncService) -> int:
    """Move everything there is; the number of files moved."""
    try:
        assert thread.run_until_idle() is True
    finally:
        thread.stop()
    return thread.moved


def test_studio_to_s3_to_a_second_workstation(studio, seaweedfs, prefix, tmp_path):
    admin = studio.publisher
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings", json={
        "enabled": True, "config": {"retry_cnt": 3, "active_site": "studio", "remote_site": SITE},
        "sites": [{"name": SITE, "provider": "s3", "s3": seaweedfs.settings(prefix)}]})
    admin.clear_caches()
    rep = studio.publish("sh010", [0, 1000, 300_000, 20 * MIB + 7])

    # As the S3 site: it moves files between the project's active site (studio) and its
    # remote site (this one), i.e. uploads from the studio root.
    uploader = admin.create_service(active_site=SITE, state_dir=tmp_path / "up")
    assert uploader.site_pairs(PROJECT) == [("studio", SITE)]
    assert run(uploader) == len(rep["files"])
    assert admin.is_representation_on_site(PROJECT, rep["id"], SITE)
    client = seaweedfs.client()
    for file in rep["files"]:
        key = f"{prefix}/{template_to_site_path(file['path'])}"  # prefix/work/proj/...
        obj = client.get_object(Bucket=seaweedfs.bucket, Key=key)
        assert obj["Body"].read() == studio.studio_path(file).read_bytes()
        assert obj["Metadata"][HASH_METADATA] == file["hash"]

    # A second workstation whose remote site is S3 downloads from it.
    ws2_root = tmp_path / "ws2"
    ws2_root.mkdir()
    admin.client.http.put(f"/api/{admin.endpoint_prefix}/settings/{PROJECT}/site/ws2", json={
        "active_site": "local", "remote_site": SITE,
        "local_roots": [{"name": "work", "path": str(ws2_root)}]})
    ws2 = SiteSyncAddon(studio.url, ADMIN_KEY, site_id="ws2")
    ws2.add_site(PROJECT, rep["id"], "ws2")
    downloader = ws2.create_service(state_dir=tmp_path / "down")
    assert downloader.site_pairs(PROJECT) == [("ws2", SITE)]
    assert run(downloader) == len(rep["files"])
    assert ws2.is_representation_on_site(PROJECT, rep["id"], "ws2")
    for file in rep["files"]:
        copy = ws2_root / file["path"].partition("/")[2]
        assert copy.read_bytes() == studio.studio_path(file).read_bytes()
        assert hash_file(copy) == file["hash"]
    assert not list(ws2_root.rglob(f"*{TEMP_SUFFIX}"))
    assert not [key for key in _keys(client, seaweedfs.bucket, prefix) if TEMP_SUFFIX in key]


def _keys(client, bucket: str, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]
