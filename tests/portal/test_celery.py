"""Celery: a task really travels through the broker to a real worker, and beat's schedule is sound.

With ``REDIS_URL`` set (CI) the broker and result backend are Redis; without it the broker is
kombu's filesystem transport and results go to the in-process memory backend, which the worker
thread shares with the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from portal.celery import app as celery_app
from portal.tasks import heartbeat


def _reset_connection_pools() -> None:
    """Drop cached broker connections so changed broker options take effect.

    kombu also keeps a process-wide registry of producer pools keyed by connection
    (``kombu.pools.producers``); it must go too, or a later ``delay()`` gets the old producer
    pool, whose connection pool was just closed ("Acquire on closed pool").
    """
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture
def isolated_broker(tmp_path: Path) -> Iterator[str]:
    """The filesystem broker gets private folders, so a parallel test run or a running
    ``make run`` can never take this test's message (Redis runs use their own db number)."""
    url = str(celery_app.conf.broker_url)
    if not url.startswith("filesystem"):
        yield url
        return
    previous = celery_app.conf.broker_transport_options
    folders = {
        name: tmp_path / name for name in ("out", "processed", "control")
    }  # must exist before the worker starts
    for folder in folders.values():
        folder.mkdir()
    celery_app.conf.broker_transport_options = {
        "data_folder_in": str(folders["out"]),
        "data_folder_out": str(folders["out"]),
        "processed_folder": str(folders["processed"]),
        "store_processed": False,
        "control_folder": str(folders["control"]),
    }
    _reset_connection_pools()
    try:
        yield url
    finally:
        _reset_connection_pools()
        celery_app.conf.broker_transport_options = previous


@pytest.mark.real_broker
@pytest.mark.django_db(transaction=True)
def test_heartbeat_runs_through_the_real_broker_in_a_real_worker(isolated_broker: str) -> None:
    assert celery_app.conf.task_always_eager is False  # conftest turns eager mode off here
    before = timezone.now()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = heartbeat.delay()
        ran_at = result.get(timeout=30)
    assert result.successful()
    # The worker ran it (not the caller): a message went over the broker and back.
    assert result.state == "SUCCESS"
    assert before <= dt.datetime.fromisoformat(ran_at) <= timezone.now()


@pytest.mark.real_broker
def test_eager_mode_is_off_only_for_real_broker_tests() -> None:
    assert celery_app.conf.task_always_eager is False


def test_other_tests_run_tasks_eagerly() -> None:
    assert celery_app.conf.task_always_eager is True
    result = heartbeat.delay()
    assert dt.datetime.fromisoformat(result.get(timeout=1)) <= timezone.now()


def test_beat_schedule_names_only_registered_tasks() -> None:
    celery_app.loader.import_default_modules()
    registered = set(celery_app.tasks.keys())
    assert settings.CELERY_BEAT_SCHEDULE, "the beat schedule is empty"
    for entry_name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in registered, (
            f"beat entry {entry_name!r} names {entry['task']!r}, which is not a registered task"
        )
        assert "schedule" in entry, f"beat entry {entry_name!r} has no schedule"


def test_beat_uses_the_database_scheduler() -> None:
    assert celery_app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
