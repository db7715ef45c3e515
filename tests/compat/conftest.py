import pytest

from ..integration import rest_apps


@pytest.fixture(autouse=True)
def no_leftover_apps(request):
    """Kill whatever application a test left running on the session cluster."""
    yield
    if "local_cluster" in request.fixturenames:
        rest_apps.kill_unfinished(request.getfixturevalue("local_cluster").rm_url)
