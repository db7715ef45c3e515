"""Every YARNAPI method against the real local cluster."""

from __future__ import annotations

import getpass
import subprocess
import uuid

import pytest

from knit.conf import load_conf
from knit.exceptions import NotFoundError, YARNConnectionError
from knit.yarn_api import YARNAPI

from . import rest_apps
from .waiting import wait_for


@pytest.fixture(scope="module")
def api(local_cluster, hadoop_env):
    conf = load_conf(environ=hadoop_env)
    assert (conf["rm"], conf["rm_port"]) == ("127.0.0.1", local_cluster.ports.rm_webapp)
    yarn = str(local_cluster.hadoop_home / "bin" / "yarn")
    return YARNAPI(conf["rm"], conf["rm_port"], scheme=conf["scheme"], username=conf["user"],
                   yarn_cmd=yarn)




def test_cluster_wide_calls(api, local_cluster):
    assert api.cluster_info()["state"] == "STARTED"
    metrics = api.cluster_metrics()
    assert metrics["activeNodes"] == 2 and metrics["totalMB"] == 2 * 4096
    assert {node["state"] for node in api.nodes()} == {"RUNNING"}
    assert api.scheduler()["type"] == "capacityScheduler"
    assert set(api.queues()) == {"default", "batch"}
    assert repr(api) == f"YARNAPI<{local_cluster.rm_url}>"


def test_system_logs_finds_this_clusters_daemons_with_the_0_2_4_keys(api, local_cluster):
    found = api.system_logs()
    logs = local_cluster.directory / "logs"
    assert found["on_rm"] is True and found["single_node"] is False  # two NodeManagers
    assert found["rm_logfile"] == str(logs / "resourcemanager.log")
    rm_pid = found["rm_proc"] if isinstance(found["rm_proc"], int) else found["rm_proc"].pid
    assert rm_pid == local_cluster.status()["daemons"]["resourcemanager"]["pid"]
    assert found["nm_logfile"] in (str(logs / "nodemanager-0.log"), str(logs / "nodemanager-1.log"))
    # Only this cluster's daemons, whatever other clusters run on the machine.
    assert found["resourcemanager"] == [str(logs / "resourcemanager.log")]
    assert sorted(found["nodemanager"]) == [str(logs / "nodemanager-0.log"),
                                            str(logs / "nodemanager-1.log")]
    assert found["url"] == f"{local_cluster.rm_url}/logs/"


def test_app_lifecycle_status_logs_kill(api, local_cluster):
    marker = uuid.uuid4().hex
    app_id = rest_apps.submit_shell(local_cluster.rm_url, f"echo {marker}; echo to-err >&2; sleep 120")
    assert app_id in api.apps
    rest_apps.wait_am_container_running(local_cluster.rm_url, app_id)
    assert api.state(app_id) == "ACCEPTED"  # a shell command never registers as an AM
    status = api.status(app_id)
    assert status["id"] == app_id and status["allocatedMB"] >= 128
    attempts = api.app_attempts(app_id)
    assert len(attempts) == 1 and attempts[0]["containerId"].startswith("container_")
    containers = api.app_containers(app_id)
    assert [c["id"] for c in containers] == [attempts[0]["containerId"]]
    assert api.container_status(containers[0]["id"])["state"] == "RUNNING"
    running = wait_for(lambda: (logs := api.logs(app_id)) and marker in logs[containers[0]["id"]]["stdout"] and logs,
                       what="live stdout")
    assert running[containers[0]["id"]]["stderr"] == "to-err\n"
    assert api.kill(app_id) is True
    assert api.state(app_id) == "KILLED"
    aggregated = api.logs(app_id, retries=30)
    assert marker in aggregated[containers[0]["id"]]["stdout"]
    assert "to-err" in api.logs(app_id, shell=True)[containers[0]["id"]]["stderr"]
    assert api.kill(app_id) is True  # killing again is harmless
    with pytest.raises(NotFoundError, match="no running NodeManager"):
        api.container_status(containers[0]["id"])


def test_finished_app_logs_and_state(api, local_cluster):
    app_id = rest_apps.submit_shell(local_cluster.rm_url, "echo done-here")
    wait_for(lambda: api.state(app_id) in ("FINISHED", "FAILED"), what="the app to end")
    assert api.kill(app_id) is False  # it ended on its own
    logs = api.logs(app_id, retries=30)
    assert any(files.get("stdout") == "done-here\n" for files in logs.values())


def test_containers_on_both_nodemanagers(api, local_cluster, hadoop_env):
    """DistributedShell with two 3000 MB containers: one per 4096 MB NodeManager."""
    jar = next((local_cluster.hadoop_home / "share/hadoop/yarn").glob(
        "hadoop-yarn-applications-distributedshell-*.jar"))
    client = subprocess.Popen(
        ["yarn", "jar", str(jar), "org.apache.hadoop.yarn.applications.distributedshell.Client",
         "-jar", str(jar), "-shell_command", "echo ds-running; sleep 120", "-num_containers", "2",
         "-container_memory", "3000", "-master_memory", "256", "-appname", "two-nodes"],
        env=hadoop_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        app = wait_for(lambda: [a for a in api.apps_info() if a["name"] == "two-nodes"
                                and a["state"] not in ("FINISHED", "FAILED", "KILLED")],
                       what="DistributedShell to submit")[0]
        containers = wait_for(
            lambda: (found := api.app_containers(app["id"])) and len(
                [c for c in found if c["state"] == "RUNNING"]) == 3 and found,
            timeout=90, what="3 running containers")
        assert len({c["nodeHttpAddress"] for c in containers}) == 2
        assert sorted(c["totalMemoryNeededMB"] for c in containers) == [256, 3072, 3072]  # 128 MB steps
        logs = api.logs(app["id"])  # live, from both NodeManagers
        assert set(logs) == {c["id"] for c in containers}
        assert all(set(files) == {"stdout", "stderr", "nodeId"} for files in logs.values())
        assert {files["nodeId"] for files in logs.values()} == {c["nodeId"] for c in containers}
        assert api.kill(app["id"]) is True
    finally:
        client.terminate()
        client.wait(timeout=30)


def test_kill_all_only_knit_apps(api, local_cluster):
    knit_apps = [rest_apps.submit_shell(local_cluster.rm_url, "sleep 120", app_type="knit") for _ in range(2)]
    other = rest_apps.submit_shell(local_cluster.rm_url, "sleep 120", app_type="YARN")
    for app_id in (*knit_apps, other):
        rest_apps.wait_am_container_running(local_cluster.rm_url, app_id)
    killed = api.kill_all(knit_only=True)
    assert set(knit_apps) <= set(killed) and other not in killed
    assert api.state(other) == "ACCEPTED"
    assert other in api.kill_all(knit_only=False)
    assert api.state(other) == "KILLED"


def test_unknown_app_is_a_clear_not_found(api):
    with pytest.raises(NotFoundError, match="application_1_0001") as caught:
        api.status("application_1_0001")
    assert isinstance(caught.value, KeyError)
    assert caught.value.exception == "NotFoundException"


def test_wrong_port_names_url_and_hints():
    api = YARNAPI("127.0.0.1", 1, timeout=5, retry_for=1)
    with pytest.raises(YARNConnectionError) as caught:
        api.cluster_info()
    message = str(caught.value)
    assert "retried for 1 s" in message
    assert "http://127.0.0.1:1/ws/v1/cluster/info" in message
    assert "http vs https" in message and "gateway" in message
    assert isinstance(caught.value, ConnectionError)


def test_wrong_scheme_is_a_connection_error(local_cluster):
    api = YARNAPI("127.0.0.1", local_cluster.ports.rm_webapp, scheme="https", timeout=5)
    with pytest.raises(YARNConnectionError, match="http vs https"):
        api.cluster_info()


def test_proxy_variables_do_not_capture_loopback(local_cluster, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9/")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    api = YARNAPI("127.0.0.1", local_cluster.ports.rm_webapp, username=getpass.getuser())
    assert api.cluster_info()["state"] == "STARTED"


def test_https_gateway_with_basic_auth_and_ca_bundle(local_cluster, tmp_path):
    from .gateway import PREFIX, Gateway
    from knit.exceptions import YARNAuthError

    with Gateway(local_cluster.rm_url, tmp_path, "alice", "s3cret") as gateway:
        api = YARNAPI("127.0.0.1", gateway.port, scheme="https", gateway_path=PREFIX,
                      username="alice", password="s3cret", verify=str(gateway.cert))
        assert api.cluster_info()["state"] == "STARTED"
        app_id = rest_apps.submit_shell(local_cluster.rm_url, "sleep 120")
        assert api.kill(app_id) is True  # PUT through the gateway
        wrong = YARNAPI("127.0.0.1", gateway.port, scheme="https", gateway_path=PREFIX,
                        username="alice", password="nope", verify=str(gateway.cert))
        with pytest.raises(YARNAuthError, match="401"):
            wrong.cluster_info()
        unverified = YARNAPI("127.0.0.1", gateway.port, scheme="https", gateway_path=PREFIX,
                             username="alice", password="s3cret")
        with pytest.raises(YARNConnectionError):
            unverified.cluster_info()  # self-signed: refused without the CA bundle
