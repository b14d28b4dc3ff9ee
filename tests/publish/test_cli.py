"""`sitesync publish` runs through the pyblish plugins; a failure names the plugin."""
from __future__ import annotations

import json

from sitesync_addon.status import SiteSyncStatus
from tests.cli.test_cli import run, sample
from tests.publish.conftest import sites_of
from tests.studio import PROJECT


def test_publish_prints_the_representation_and_stamps_it(studio):
    out = run(studio, "publish", PROJECT, "--folder", "shots/sh010", "--product", "plate",
              "--version", 2, "--representation", "exr", sample(studio), "--json",
              site_id="publisher").stdout
    rep = json.loads(out)
    assert rep["representationId"] == rep["id"] and rep["version"] == 2
    assert sites_of(studio, rep) == {"studio": SiteSyncStatus.OK}


def test_a_failing_plugin_is_one_line_naming_it(studio):
    result = run(studio, "publish", PROJECT, "--folder", "shots/sh010", "--product", "plate",
                 "--version", 1, "--representation", "exr", studio.tmp / "gone.exr",
                 check=False, site_id="publisher")
    assert result.returncode == 1 and result.stdout == ""
    missing = studio.tmp / "gone.exr"
    assert result.stderr.strip().splitlines() == [
        "error: IntegrateSiteSyncRepresentations failed: cannot publish missing file(s): "
        + str(missing)]
