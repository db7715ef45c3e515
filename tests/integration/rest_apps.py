"""Submitting plain shell-command applications through the RM REST API, for tests.

No JVM client is involved: the ApplicationMaster container just runs a shell
command (YARN then fails the attempt, as the command never registers as an AM;
its output and aggregated logs are what the tests look at).
"""

from __future__ import annotations

import getpass
import time

import requests

FINAL_STATES = {"FINISHED", "FAILED", "KILLED"}


def session() -> requests.Session:
    """HTTP calls as this user (the local cluster refuses anonymous web calls)."""
    http = requests.Session()
    http.trust_env = False
    http.params = {"user.name": getpass.getuser()}
    return http


def submit_shell(rm_url: str, command: str, name: str = "knit-test", queue: str = "default",
                 memory: int = 128, env: dict[str, str] | None = None,
                 app_type: str = "YARN") -> str:
    """Submit ``command`` as the AM container's command; stdout/stderr go to its log dir."""
    http = session()
    user = {"user.name": getpass.getuser()}
    base = f"{rm_url}/ws/v1/cluster"
    app_id = http.post(f"{base}/apps/new-application", params=user, timeout=30).json()["application-id"]
    body = {
        "application-id": app_id,
        "application-name": name,
        "application-type": app_type,
        "queue": queue,
        "max-app-attempts": 1,
        "resource": {"memory": memory, "vCores": 1},
        "am-container-spec": {
            "commands": {"command": f"{{ {command} ; }} 1><LOG_DIR>/stdout 2><LOG_DIR>/stderr"},
            "environment": {"entry": [{"key": k, "value": v} for k, v in (env or {}).items()]},
        },
    }
    response = http.post(f"{base}/apps", json=body, params=user, timeout=30)
    response.raise_for_status()
    return app_id


def app_info(rm_url: str, app_id: str) -> dict:
    return session().get(f"{rm_url}/ws/v1/cluster/apps/{app_id}", timeout=30).json()["app"]


def wait_state(rm_url: str, app_id: str, states: set[str], timeout: float = 60) -> dict:
    """Poll until the app is in one of ``states``; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        info = app_info(rm_url, app_id)
        if info["state"] in states:
            return info
        if time.monotonic() > deadline:
            raise AssertionError(f"{app_id} still {info['state']} after {timeout} s, wanted {states}")
        time.sleep(0.2)


def kill(rm_url: str, app_id: str) -> None:
    session().put(f"{rm_url}/ws/v1/cluster/apps/{app_id}/state", json={"state": "KILLED"},
                  params={"user.name": getpass.getuser()}, timeout=30)


def kill_unfinished(rm_url: str) -> list[str]:
    """Kill every application of the cluster that has not ended."""
    apps = (session().get(f"{rm_url}/ws/v1/cluster/apps", timeout=30).json().get("apps") or {})
    left = [app["id"] for app in apps.get("app") or [] if app["state"] not in FINAL_STATES]
    for app_id in left:
        kill(rm_url, app_id)
    return left


def wait_am_container_running(rm_url: str, app_id: str, timeout: float = 60) -> dict:
    """Wait until the NodeManager reports the app's first container RUNNING.

    A shell command never registers as an ApplicationMaster, so the RM keeps such
    an app ACCEPTED; the NodeManager's view is what tells that it runs.
    """
    http = session()
    deadline = time.monotonic() + timeout
    seen = "no attempt yet"
    while time.monotonic() < deadline:
        attempts = http.get(f"{rm_url}/ws/v1/cluster/apps/{app_id}/appattempts", timeout=30).json()
        for attempt in (attempts.get("appAttempts") or {}).get("appAttempt") or []:
            node, container = attempt.get("nodeHttpAddress"), attempt.get("containerId")
            if not node or not container:
                continue
            reply = http.get(f"http://{node}/ws/v1/node/containers/{container}", timeout=30)
            if reply.ok:
                info = reply.json()["container"]
                seen = info["state"]
                if info["state"] == "RUNNING":
                    return info
        time.sleep(0.2)
    raise AssertionError(f"the first container of {app_id} is not RUNNING after {timeout} s: {seen}")
