"""The one error of plugin loading; its message names the plugin and the offending field."""

from __future__ import annotations


class PluginLoadError(Exception):
    """A plugin cannot be loaded; start-up (or the migration step) stops."""
