"""Health endpoints and production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    expected = {"database", "channel_layer"} | (
        {"broker"} if os.environ.get("REDIS_URL") else set()
    )
    assert set(body["checks"]) == expected
    assert {c["status"] for c in body["checks"].values()} == {"ok"}


@pytest.mark.django_db
def test_readyz_reports_503_when_database_fails(client, monkeypatch):
    def broken():
        raise ConnectionError("down")

    monkeypatch.setattr("labelhub.core.health._check_database", broken)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"]["status"] == "error"
    assert r.json()["checks"]["database"]["error"] == "ConnectionError"


def _run(env_extra, *args):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x7!Qm2#vR9$kL4@pZ8^wN1&bT6*yH3(eJ5)uC0-sD_fG+aK=oIqVxYz",
    "ALLOWED_HOSTS": "labelhub.example.com",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:1/db",
    "REDIS_URL": "redis://127.0.0.1:1/0",
}


def test_check_deploy_with_production_settings_reports_nothing():
    r = _run(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "System check identified no issues (0 silenced)." in r.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    r = _run(env, "check")
    assert r.returncode == 1
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in r.stderr


def test_without_secret_key_development_uses_a_private_random_key(tmp_path):
    # DEBUG=0 without DJANGO_ENV=production used to run on a key published in the source.
    key_file = tmp_path / "var" / "secret_key"
    env = {"DEBUG": "0", "SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)}
    code = "from django.conf import settings as s; print(s.SECRET_KEY)"
    first = _run(env, "shell", "--no-imports", "-c", code)
    second = _run(env, "shell", "--no-imports", "-c", code)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key == second.stdout.strip() == key_file.read_text()
    assert len(key) >= 60 and "insecure" not in key
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind
    other = _run({**env, "SECRET_KEY_FILE": str(tmp_path / "other")}, "shell", "-c", code)
    assert other.stdout.strip() != key  # each installation has its own


def test_production_settings_values():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_SAMESITE,"
        " s.DATABASES['default']['OPTIONS']['pool']['max_size'], s.DATABASES['default']['CONN_MAX_AGE'],"
        " s.CELERY_TASK_ACKS_LATE, s.CELERY_TASK_REJECT_ON_WORKER_LOST, s.CELERY_TASK_ALWAYS_EAGER,"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0]['max_connections'])"
    )
    r = _run({**PRODUCTION_ENV, "DATABASE_POOL_MAX_SIZE": "7"}, "shell", "--no-imports", "-c", code)
    assert r.stdout.split() == [
        "True",
        "True",
        "True",
        "Lax",
        "7",
        "0",
        "True",
        "True",
        "False",
        "43200",
        "channels_redis.core.RedisChannelLayer",
        "2000",
    ]


def test_celery_tasks_have_explicit_names():
    from labelhub.celery import app

    app.loader.import_default_modules()
    ours = sorted(name for name in app.tasks if not name.startswith("celery."))
    assert ours == [
        "accounts.expire_invitations",
        "accounts.send_invitation_email",
        "core.reap_jobs",
        "imports.run_import_job",
        "labeling.expire_leases",
        "projects.run_data_row_job",
        "projects.run_project_deletion",
    ]
