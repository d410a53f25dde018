"""The chat endpoint: conversations with a model that uses the task tools."""
