"""todo-api: an async REST API that stores each user's tasks."""
