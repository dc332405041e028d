"""The engine as an HTTP service (FastAPI + uvicorn), bound to 127.0.0.1 and guarded by a token.

This is the foundation of the service: health and identity. The job API (render, faces, personas over
HTTP, progress streaming) is built on it by the "engine as a service" issue.
"""
