"""Settings of the authorize benchmark's gunicorn (bin/bench_authorize.py): the project's own,
with a URLconf that adds a bare JSON view to compare the API against. Never used elsewhere."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
