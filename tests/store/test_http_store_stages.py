"""The contract tests of ``test_store_stages.py`` on ``HttpMetadataStore`` and a real server."""

from tests.store.test_store_stages import *  # noqa: F403 - the same tests, collected again
from tests.store.http_backend import store  # noqa: E402, F401 - on the HTTP store
