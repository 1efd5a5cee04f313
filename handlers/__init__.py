"""The Slack surface: thin listeners that parse, call the catalog, and render Block Kit."""
