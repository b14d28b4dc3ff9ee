"""SiteSync plugins for host integrations."""
