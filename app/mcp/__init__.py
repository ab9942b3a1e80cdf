"""The agents' MCP server (SPEC 10): `baton mcp`, the six tools, acting as the agent on GitHub."""
