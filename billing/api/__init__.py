"""The switch API (JSON, bearer tokens): endpoints, token check, input parsing, OpenAPI
description and URLs (namespace "api", mounted at /api/v1/ by portal/urls.py)."""
