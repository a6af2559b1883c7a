"""The HTTP API: a FastAPI app over one lake."""

from lakebed.server.app import create_app

__all__ = ["create_app"]
