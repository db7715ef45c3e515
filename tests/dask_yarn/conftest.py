import pytest

from ..integration import rest_apps


@pytest.fixture(autouse=True)
def no_leftover_apps(request):
    """Kill whatever application a test left running on the session cluster."""
    yield
    if "local_cluster" in request.fixturenames or "cluster_environ" in request.fixturenames:
        cluster = request.getfixturevalue("local_cluster")
        rest_apps.kill_unfinished(cluster.rm_url)
