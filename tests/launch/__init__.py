"""Launch hooks: discovery, the runner, CopyLastPublishedWorkfile and `sitesync launch`."""
