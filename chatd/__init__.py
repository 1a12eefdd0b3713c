"""chatd: a real-time chat server."""
