"""The loopback HTTP API (Starlette on uvicorn)."""
