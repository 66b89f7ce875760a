"""HTTP boundary of the plugin: wire schemas, route table, handlers and their error translation."""
