"""Bounded polling for tests."""

import time


def wait_for(predicate, timeout=60, what="condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def worker_logs(knit) -> dict[str, dict[str, str]]:
    """Aggregated logs of a finished Knit application's worker containers (the AM's
    container left out), waiting until YARN has aggregated them."""
    from knit.exceptions import NotFoundError

    def fetch():
        try:
            return knit.logs()
        except NotFoundError:
            return None

    logs = wait_for(fetch, what="aggregated logs")
    masters = knit.yarn_api.am_container_ids(knit.app_id)
    return {cid: files for cid, files in logs.items() if cid not in masters}
