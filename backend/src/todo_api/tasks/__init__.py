"""Tasks: each user's todo items."""
