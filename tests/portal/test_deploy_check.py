"""Production settings pass ``manage.py check --deploy`` with no warnings at all."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
# The test run's own switches (conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright) are not
# part of a production environment.
ENV_FROM_TESTS = {"DEBUG", "TESTING", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_FROM_TESTS}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="portal.example.com",
        SITE_URL="https://portal.example.com",
        REDIS_URL="redis://127.0.0.1:6379/0",  # the check never connects to it
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    env.update(overrides)
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MANAGE), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = _check(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr and "?: (security." not in result.stderr


def test_the_check_does_fail_on_a_weak_secret_key() -> None:
    # Proves the test above would notice a warning: a short key is security.W009.
    result = _check(_production_env(SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = _production_env()
    del env["SECRET_KEY"]
    result = _check(env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_redis() -> None:
    env = _production_env()
    del env["REDIS_URL"]
    result = _check(env)
    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr


def test_check_deploy_warns_when_production_runs_without_redis_on_purpose() -> None:
    env = _production_env(ALLOW_NO_REDIS="1")
    del env["REDIS_URL"]
    result = _check(env)
    assert result.returncode != 0
    assert "portal.W001" in result.stderr + result.stdout


def test_check_deploy_warns_when_staff_mfa_is_turned_off() -> None:
    result = _check(_production_env(STAFF_REQUIRE_MFA="0"))
    assert result.returncode != 0
    assert "portal.W002" in result.stderr + result.stdout
