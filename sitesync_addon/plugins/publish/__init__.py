"""pyblish publish plugins of SiteSync (discovered through get_plugin_paths)."""
