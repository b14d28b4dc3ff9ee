"""Provider SDKs are optional extras: importing a provider module never imports its SDK (the
server imports them all for its settings schema), and a site whose SDK is missing fails at
creation with the one line that says what to install."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sitesync_addon.errors import ConfigError, ProviderNotInstalled
from sitesync_addon.providers.registry import BUILTIN_MODULES, create_provider

SDKS = ("boto3", "botocore", "s3transfer", "paramiko", "googleapiclient", "google.auth",
        "google.oauth2", "google_auth_httplib2", "httplib2")


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_importing_every_builtin_provider_imports_no_sdk():
    probe = (
        "import importlib, json, sys\n"
        f"for name in {BUILTIN_MODULES!r}:\n"
        "    importlib.import_module(f'sitesync_addon.providers.{name}')\n"
        "from sitesync_addon.providers.registry import ProviderRegistry\n"
        "models = ProviderRegistry(load_entry_points=False).settings_models()\n"
        f"print(json.dumps([sorted(models), [m for m in {SDKS!r} if m in sys.modules]]))\n")
    codes, loaded = json.loads(run_python(probe))
    assert set(codes) == set(BUILTIN_MODULES)  # every settings model, for the server
    assert loaded == []


@pytest.mark.parametrize(("code", "block", "settings"), [
    ("s3", "boto3", {"bucket": "b"}),
    ("sftp", "paramiko", {"host": "h", "user": "u"}),
    ("gdrive", "googleapiclient", {}),
])
def test_a_missing_sdk_is_one_line_that_says_what_to_install(code, block, settings):
    probe = (
        "import sys\n"
        f"sys.modules[{block!r}] = None  # as if the extra were not installed\n"
        "from sitesync_addon.errors import ProviderNotInstalled\n"
        "from sitesync_addon.providers.registry import create_provider\n"
        "try:\n"
        f"    create_provider('cloud', {{'provider': {code!r}, {code!r}: {settings!r}}})\n"
        "except ProviderNotInstalled as exc:\n"
        "    print(exc)\n")
    assert run_python(probe).strip() == (f"site 'cloud' uses provider '{code}', which is not "
                                         f"installed: pip install 'sitesync[{code}]'")


def test_an_unknown_provider_code_is_not_installed_and_still_a_value_error():
    with pytest.raises(ProviderNotInstalled) as raised:
        create_provider("vault", {"provider": "no_such_store"})
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, ConfigError)
    message = str(raised.value)
    assert message.startswith("site 'vault' uses provider 'no_such_store', which is not "
                              "installed (installed: ")
    assert "local_drive" in message and "install the package that provides it" in message
