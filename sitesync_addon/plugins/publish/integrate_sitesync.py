"""Stamp the sites of everything a publish registered."""
from __future__ import annotations

import pyblish.api

from sitesync_addon.publish import PUBLISHED_KEY, collected, stamp_sites


class IntegrateSiteSync(pyblish.api.ContextPlugin):
    """Stamp every representation in any instance's ``published_representations`` with the
    collected ``compute_resource_sync_sites``, in one bulk call.

    A representation that has sites already (a hero republished in place) gets every one of
    them reset in the same call: the active site OK, other existing sites QUEUED, each file
    map rebuilt from the new files.

    A studio with its own integrator only has to put the registered representation documents
    (with their ``id``) in ``instance.data["published_representations"]``. What was
    registered is stamped, also for an instance that failed later on; what was not, is not.
    With pyblish's default test an integrator error does not stop the publish, so the other
    instances are integrated and stamped as usual.
    """

    order = pyblish.api.IntegratorOrder + 0.4
    label = "Stamp SiteSync sites"

    def process(self, context: pyblish.api.Context) -> None:
        addon, project, settings = collected(context)
        rep_ids = []
        for instance in context:
            for rep in instance.data.get(PUBLISHED_KEY, []):
                if not rep.get("id"):
                    raise ValueError(f"instance '{instance.name}': a published representation "
                                     "has no 'id'; put the registered documents there")
                rep_ids.append(rep["id"])
        if not rep_ids:
            self.log.info("nothing was published")
            return
        stamp_sites(addon, project, rep_ids, settings["sites"])
        self.log.info("stamped %d representation(s) on %s", len(set(rep_ids)),
                      [site["name"] for site in settings["sites"]])
