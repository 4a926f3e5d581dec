"""The `mindpalace` command."""
