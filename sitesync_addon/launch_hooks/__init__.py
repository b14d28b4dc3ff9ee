"""Hooks run before a host application starts (discovered through get_launch_hook_paths)."""
