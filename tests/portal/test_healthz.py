"""``GET /healthz``: database and broker status for load balancers and monitoring."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import Client

from portal import views
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down() -> Iterator[None]:
    """Point the broker at a port where nothing listens."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous


def test_healthy(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_needs_no_login(client: Client) -> None:
    assert client.get("/healthz").status_code == 200  # anonymous client, not a redirect


def test_broker_unreachable_is_503(client: Client, broker_down: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"] != "ok"


class _BrokenConnection:
    def cursor(self) -> None:
        raise OperationalError("could not connect to server")


def test_database_unreachable_is_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "connection", _BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "OperationalError",
        "broker": "ok",
    }


def test_only_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
