"""Servers on a warm index: MCP tools for agents (``mmrag mcp``) and an HTTP API
with a search page (``mmrag serve``). Both call ``mmrag.service.core.Service``."""
