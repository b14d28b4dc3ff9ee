"""Test helpers SiteSync ships for plugin authors."""
