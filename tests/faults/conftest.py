from tests.e2e.conftest import client, model, recorder  # noqa: F401  (shared fixtures)
