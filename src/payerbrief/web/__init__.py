"""The web app: the site's pages rendered on request, and a JSON API.

Needs the `web` extra (FastAPI and uvicorn); nothing here imports them until
the app is built, so the rest of payerbrief works without them.
"""
