"""AI assistants: the task tools over MCP (HTTP at /mcp, and stdio)."""
