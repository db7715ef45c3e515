"""Applications of several services on the real cluster: Skein's spec format,
``depends``, resource types, a driver, calls from inside containers, the handle's verbs."""

from __future__ import annotations

import hashlib
import hmac
import json
import shlex
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from knit import ApplicationSpec, File, Knit, Resources, Service
from knit.exceptions import PreflightError

from .waiting import wait_for, worker_logs

QUIET = {"progress": False}
#: The Python of the tests: the containers run on this machine and import knit with it.
PYTHON = shlex.quote(sys.executable)
GPU = "yarn.io/gpu"


@pytest.fixture(scope="module")
def knit(cluster_environ):
    return Knit(**QUIET)


def _ended(knit, timeout=120) -> dict:
    wait_for(lambda: knit.runtime_status() in ("FINISHED", "FAILED", "KILLED"), timeout,
             what=f"{knit.app_id} to end")
    return knit.status()


def _report(knit):
    try:
        return knit.am.report()
    except Exception:  # noqa: BLE001 - it ended between two polls
        return None


SKEIN_SPEC = """\
name: skein-two-services
queue: default
tags: [skein-spec-{tag}]
max_attempts: 1
acls:
  enable: true
  view_users: [nobody-in-particular]
services:
  db:
    instances: 1
    resources:
      memory: 256 MiB
      vcores: 1
    files:
      greeting.txt:
        source: {greeting}
        type: file
        visibility: application
    env:
      ROLE: database
    max_restarts: 0
    script: |
      echo "db role=$ROLE service=$KNIT_SERVICE instance=$KNIT_INSTANCE user=$HADOOP_USER_NAME file=$(cat greeting.txt) size=$KNIT_RESOURCE_MEMORY_MB/$KNIT_RESOURCE_VCORES"
      sleep 8
  web:
    instances: 2
    depends:
      - db
    resources:
      memory: 128
      vcores: 1
    script: |
      echo "web instance=$KNIT_INSTANCE"
      sleep 2
"""


def test_a_skein_spec_file_runs_unchanged_and_depends_orders_the_services(knit, tmp_path):
    tag = uuid.uuid4().hex[:8]
    (tmp_path / "greeting.txt").write_text("hello from a file\n")
    spec_file = tmp_path / "spec.yaml"
    # A relative source: relative to the spec file's folder, as Skein reads it.
    spec_file.write_text(SKEIN_SPEC.format(tag=tag, greeting="greeting.txt"))
    app = knit.submit(spec_file)
    assert app.id == knit.app_id
    seen = []  # (db running?, web's target or containers) as the AM reported them
    while knit.runtime_status() == "RUNNING":
        report = _report(knit)
        if report is None:
            break
        db_running = any(c.service == "db" and c.state.value in ("RUNNING", "COMPLETE")
                         for c in report.containers)
        web = report.services["web"].target + sum(c.service == "web" for c in report.containers)
        seen.append((db_running, web))
        time.sleep(0.1)
    assert _ended(knit)["finalStatus"] == "SUCCEEDED"
    assert any(web == 0 for _, web in seen), "web asked for nothing while db was starting"
    assert all(db for db, web in seen if web), f"web started before db ran: {seen}"
    assert any(web for _, web in seen)
    logs = worker_logs(knit)
    out = "".join(f["stdout"] for f in logs.values())
    assert (f"db role=database service=db instance=0 user={knit.conf['user']} "
            "file=hello from a file size=256/1") in out
    assert "web instance=0" in out and "web instance=1" in out
    # The service's variables are in the launch context too, where the NodeManager reads them.
    launch = "".join(f.get("launch_container.sh", "") for f in logs.values())
    assert 'export ROLE="database"' in launch
    status = knit.status()
    assert f"skein-spec-{tag}" in status["applicationTags"].split(",")
    # The spec reads back.
    assert app.get_specification().services["web"].depends == ("db",)


def test_gpu_containers_go_only_to_nodes_that_have_gpus(knit):
    nodes = knit.yarn_api.nodes(states="RUNNING")
    gpus = {n["nodeHostName"]: _count(n["totalResource"], GPU) for n in nodes}
    assert sorted(gpus.values()) == [0, 2], gpus  # the local cluster's shape
    gpu_host = max(gpus, key=gpus.get)
    # YARN's GPU plugin found them with the cluster's stand-in nvidia-smi.
    node = _node(knit, gpu_host)
    found = knit.yarn_api._request("GET", f"http://{node['nodeHTTPAddress']}/ws/v1/node/resources/"
                                   "yarn.io%2Fgpu")
    names = [g["productName"] for g in found["gpuDeviceInformation"]["gpus"]]
    assert names == ["knit stand-in GPU"] * 2
    spec = ApplicationSpec(name="gpus", services={
        "trainer": Service(script="echo trainer; sleep 300", instances=2,
                           resources=Resources(memory=128, vcores=1, gpus=1)),
        "licensed": Service(script="sleep 300", instances=1,
                            resources=Resources(memory=128, other={"example.com/license": 2}))})
    knit.submit(spec)
    report = wait_for(lambda: (r := _report(knit)) and len(r.live) == 3 and r, what="3 containers")
    trainers = [c for c in report.containers if c.service == "trainer"]
    assert {c.node.split(":")[0] for c in trainers} == {gpu_host}
    # YARN's own records: the node's used resources count the two GPUs granted.
    used = wait_for(lambda: _count(_node(knit, gpu_host)["usedResource"], GPU) == 2 and True,
                    what="the GPU allocation in YARN's node report")
    assert used
    used_licenses = sum(_count(_node(knit, h)["usedResource"], "example.com/license") for h in gpus)
    assert used_licenses == 2
    assert knit.kill() is True


def _node(knit, host: str) -> dict:
    return next(n for n in knit.yarn_api.nodes(states="RUNNING") if n["nodeHostName"] == host)


def _count(resource: dict, kind: str) -> int:
    infos = (resource.get("resourceInformations") or {}).get("resourceInformation") or []
    return next((int(i["value"]) for i in infos if i["name"] == kind), 0)


def test_resource_types_the_cluster_cannot_grant_are_refused_before_submitting(knit):
    before = {a["id"] for a in knit.yarn_api.apps_info()}
    too_many = ApplicationSpec(services={"s": Service(script="true", resources=Resources(gpus=3))})
    with pytest.raises(PreflightError, match=r"services\.s\.resources: 3 yarn.io/gpu fits on no node"):
        knit.submit(too_many)
    unknown = ApplicationSpec(services={"s": Service(
        script="true", resources=Resources(other={"example.com/unicorn": 1}))})
    with pytest.raises(PreflightError, match="declares no resource type 'example.com/unicorn'"):
        knit.submit(unknown)
    with pytest.raises(FileNotFoundError, match=r"services\.s\.files\.data: '/nonexistent"):
        knit.submit(ApplicationSpec(services={"s": Service(
            script="true", files={"data": File("/nonexistent/data.csv")})}))
    assert {a["id"] for a in knit.yarn_api.apps_info()} == before


def test_a_driver_exit_code_3_ends_the_application_failed_with_its_diagnostics(knit, tmp_path):
    (tmp_path / "plan.txt").write_text("the plan\n")
    spec = ApplicationSpec(name="driver", master={
        "log_level": "DEBUG", "env": {"WHO": "the driver"},
        "files": {"plan.txt": str(tmp_path / "plan.txt")},
        "script": textwrap.dedent("""\
            echo "driver of $KNIT_APPLICATION_ID: $WHO read $(cat plan.txt)"
            echo "something went wrong" >&2
            exit 3
            """)}, services={"idle": Service(script="sleep 300", instances=1)})
    knit.submit(spec)
    status = _ended(knit)
    assert status["finalStatus"] == "FAILED"
    assert "the driver exited with code 3" in status["diagnostics"]
    assert "something went wrong" in status["diagnostics"]
    am_logs = wait_for(lambda: _am_logs(knit), what="the driver's log")
    assert f"driver of {knit.app_id}: the driver read the plan" in am_logs["driver.stdout"]
    assert " DEBUG " in am_logs["am.stderr"]  # master.log_level reached its Hadoop libraries


def _am_logs(knit):
    try:
        return next((f for cid, f in knit.logs().items() if cid.endswith("_000001")
                     and "driver.stdout" in f), None)
    except Exception:  # noqa: BLE001 - not aggregated yet
        return None


def test_shutdown_from_inside_a_container(knit):
    script = (f"{PYTHON} -c \"import knit; knit.current().shutdown('FAILED', "
              "'stopped from inside by ' + knit.current().container.service)\"; sleep 300")
    knit.submit(ApplicationSpec(services={"quitter": Service(script=script)}))
    status = _ended(knit)
    assert status["finalStatus"] == "FAILED"
    assert status["diagnostics"] == "stopped from inside by quitter"


def test_a_container_scales_another_service_then_the_client_shuts_it_down(knit):
    boss = f"{PYTHON} -c \"import knit; knit.current().scale('helpers', count=2)\"; sleep 300"
    app = knit.submit(ApplicationSpec(services={
        "boss": Service(script=boss),
        "helpers": Service(script="sleep 300", instances=0)}))
    wait_for(lambda: len(app.get_containers(services=["helpers"], states=["RUNNING"])) == 2,
             what="two helpers started by the boss")
    app.set_progress(0.5)
    wait_for(lambda: knit.status()["progress"] == 50.0, what="the progress in YARN")
    app.shutdown("SUCCEEDED", "done by the client")
    status = _ended(knit)
    assert (status["finalStatus"], status["diagnostics"]) == ("SUCCEEDED", "done by the client")


def test_add_a_container_with_env_overrides_kill_one_and_move_queues(knit):
    tricky = "spare $HOME `id` 'quoted' \"double\""
    app = knit.submit(ApplicationSpec(services={
        "w": Service(script='echo "ROLE=$ROLE"; sleep 300', env={"ROLE": "first"})}))
    assert app.add_container("w", env={"ROLE": tricky}) == 2
    running = wait_for(lambda: len(c := app.get_containers(services=["w"], states=["RUNNING"])) == 2
                       and c, what="two containers")
    outs = wait_for(lambda: (logs := knit.logs()) and all(
        "ROLE=" in logs.get(c.id, {}).get("stdout", "") for c in running) and logs,
        what="both containers' output")
    assert sorted(outs[c.id]["stdout"].strip() for c in running) == sorted(
        ["ROLE=first", f"ROLE={tricky}"])
    victim = running[0].id
    app.kill_container(victim)
    wait_for(lambda: [c.id for c in app.get_containers(states=["REMOVED"])] == [victim],
             what="the container stopped")
    assert app.am.report().services["w"].target == 1
    app.move("batch")
    wait_for(lambda: knit.status()["queue"] == "root.batch", timeout=30,
             what="the move to queue batch")
    assert knit.kill() is True


def test_the_cli_verbs_of_services(knit, tmp_path, hadoop_env):
    tag = uuid.uuid4().hex[:8]
    spec_file = tmp_path / "cli.yaml"
    spec_file.write_text(textwrap.dedent(f"""\
        name: cli-services
        tags: [cli-{tag}]
        services:
          main:
            resources: {{memory: 128 MiB, vcores: 1}}
            script: sleep 300
          extra:
            instances: 0
            script: sleep 300
        """))

    def knit_cli(*args):
        done = subprocess.run([sys.executable, "-m", "knit", *args], capture_output=True,
                              text=True, env=hadoop_env, timeout=180)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if "--json" in args else done.stdout

    app = knit_cli("submit", str(spec_file), "--json")["id"]
    try:
        assert [a["id"] for a in knit_cli("ls", "--tag", f"cli-{tag}", "--json")] == [app]
        assert knit_cli("container", "scale", app, "extra", "--delta", "1", "--json")["target"] == 1
        live = wait_for(lambda: len(c := knit_cli("container", "ls", app, "--state", "RUNNING",
                                                   "--json")) == 2 and c, what="2 containers")
        assert sorted(c["service"] for c in live) == ["extra", "main"]
        knit_cli("kv", "put", app, "answer", "--value", "42")
        assert knit_cli("kv", "get", app, "answer", "--json") == {"answer": "42"}
        assert knit_cli("kv", "ls", app, "ans", "--json") == {"answer": "42"}
        assert "depends" not in knit_cli("spec", app, "--json")["services"]["main"]
        knit_cli("shutdown", app, "--status", "killed", "--diagnostics", "from the cli")
        knit.app_id = app
        status = _ended(knit)
        assert (status["finalStatus"], status["diagnostics"]) == ("KILLED", "from the cli")
    finally:
        knit.yarn_api.kill(app) if knit.yarn_api.state(app) == "RUNNING" else None


def test_max_restarts_and_allow_failures_per_service(knit):
    def spec(allow: bool) -> ApplicationSpec:
        return ApplicationSpec(services={
            "flaky": Service(script="exit 7", max_restarts=1, allow_failures=allow),
            "steady": Service(script="sleep 4")})
    knit.submit(spec(allow=True))
    status = _ended(knit)
    assert status["finalStatus"] == "SUCCEEDED", status["diagnostics"]
    report_text = status["diagnostics"]
    assert "flaky:" in report_text and "restarts=1" in report_text
    knit.submit(spec(allow=False))
    status = _ended(knit)
    assert status["finalStatus"] == "FAILED"
    assert status["diagnostics"].startswith("service flaky: ")
    assert "exit code 7" in status["diagnostics"] and "max_restarts=1" in status["diagnostics"]


def test_nodes_without_relaxed_locality_pin_a_service(knit):
    hosts = sorted(n["nodeHostName"] for n in knit.yarn_api.nodes(states="RUNNING"))
    pinned = hosts[-1]
    app = knit.submit(ApplicationSpec(services={"pinned": Service(
        script="sleep 300", instances=3, nodes=[pinned], relax_locality=False)}))
    running = wait_for(lambda: len(c := app.get_containers(states=["RUNNING"])) == 3 and c,
                       what="3 pinned containers")
    assert {c.node.split(":")[0] for c in running} == {pinned}
    assert knit.kill() is True


@pytest.fixture
def fast_second_node(local_cluster):
    """The second node labelled ``fast`` (non-exclusive) for one test: a labelled node
    takes no ApplicationMaster, so the session's cluster leaves its two unlabelled."""
    from knit.cluster import config, web

    host = local_cluster.status()["network"]["nodes"][1]
    api = Knit(**QUIET).yarn_api

    def node():
        return next(n for n in api.nodes() if n["nodeHostName"] == host)

    # Relabelling a node that runs containers upsets YARN's cluster metrics: wait.
    wait_for(lambda: node()["numContainers"] == 0, what=f"{host} to run nothing")
    web.label_nodes(local_cluster, config.NODE_LABELS, {host: "fast"})
    try:
        yield host
    finally:
        web.label_nodes(local_cluster, config.NODE_LABELS, {host: ""})
        total = sum(int(n["totalResource"]["memory"]) for n in api.nodes(states="RUNNING"))
        wait_for(lambda: api.cluster_metrics()["totalMB"] == total,
                 what="the cluster's metrics to count the unlabelled node again")


def test_a_labelled_service_runs_only_on_labelled_nodes(knit, fast_second_node):
    labelled = {n["nodeHostName"] for n in knit.yarn_api.nodes(states="RUNNING")
                if "fast" in (n.get("nodeLabels") or [])}
    assert labelled == {fast_second_node}
    app = knit.submit(ApplicationSpec(services={
        "quick": Service(script="sleep 300", instances=3, node_label="fast"),
        "anywhere": Service(script="sleep 300", instances=1)}))
    running = wait_for(lambda: len(c := app.get_containers(states=["RUNNING"])) == 4 and c,
                       what="4 containers")
    assert {c.node.split(":")[0] for c in running if c.service == "quick"} == labelled
    assert knit.kill() is True
    # A label no running node has, and a queue without access to one, are refused first.
    with pytest.raises(PreflightError, match=r"services\.s\.node_label: no RUNNING node has the "
                                             r"label 'dedicated'"):
        knit.submit(ApplicationSpec(services={"s": Service(script="true", node_label="dedicated")}))
    with pytest.raises(PreflightError, match="queue 'batch' may not use nodes labelled 'fast'"):
        knit.submit(ApplicationSpec(queue="batch", services={"s": Service(script="true",
                                                                          node_label="fast")}))


MEMBER = textwrap.dedent("""\
    import knit, sys, time
    app = knit.current()
    me = app.container
    app.kv.own(f"member.{me.instance}", me.container_id)
    won = app.kv.compare_and_set("leader", None, me.container_id)
    print("won" if won else "lost", flush=True)
    time.sleep(4 if me.instance == 0 else 300)
    """)


def test_owned_keys_go_with_their_container_and_one_leader_is_elected(knit, tmp_path):
    (tmp_path / "member.py").write_text(MEMBER)
    app = knit.submit(ApplicationSpec(services={"member": Service(
        script=f"{PYTHON} member.py", instances=3, files={"member.py": str(tmp_path / "member.py")})}))
    keys = wait_for(lambda: len(k := app.kv.prefix("member.")) == 3 and k, what="three owned keys")
    leader = app.kv["leader"]
    assert leader in keys.values()
    every_byte = bytes(range(256))
    app.kv.put("blob", every_byte)  # values may be binary
    assert app.kv.get_bytes("blob") == every_byte
    first = keys["member.0"]
    # The first member's container ends: its key goes, the others' stay.
    wait_for(lambda: "member.0" not in app.kv, what="member.0's key deleted with its container")
    assert sorted(app.kv.prefix("member.")) == ["member.1", "member.2"]
    assert first not in {c.id for c in app.get_containers()}
    logs = wait_for(lambda: (found := knit.logs()) and sum(
        "won" in f.get("stdout", "") or "lost" in f.get("stdout", "") for f in found.values()) == 3
        and found, what="the members' output")
    assert sum(f.get("stdout", "").startswith("won") for f in logs.values()) == 1
    assert knit.kill() is True


CREDENTIAL_PROBE = textwrap.dedent("""\
    import json, os, knit, requests
    from knit.exceptions import KnitError
    app = knit.current()
    me = app.container
    others = [c.id for c in app.get_containers() if c.id != me.container_id]
    try:
        app.kv.put("stolen", "x", owner=others[0])
        foreign = "allowed"
    except KnitError as exc:
        foreign = str(exc)
    app.kv.own("mine", me.container_id)
    # Another container's id with this container's credential is no one's.
    forged = requests.get(f"http://{me.am_address}/containers", timeout=30, headers={
        "X-Knit-Secret": app.am.secret, "X-Knit-Container": others[0]}).status_code
    print("PROBE=" + json.dumps({"foreign": foreign, "forged": forged,
                                 "tokens": os.environ["HADOOP_TOKEN_FILE_LOCATION"]}), flush=True)
    """)


def test_each_container_calls_with_a_credential_of_its_own(knit, tmp_path):
    (tmp_path / "probe.py").write_text(CREDENTIAL_PROBE)
    app = knit.submit(ApplicationSpec(services={
        "idle": Service(script="sleep 300"),
        "probe": Service(script=f"{PYTHON} probe.py; sleep 300", depends=["idle"],
                         files={"probe.py": str(tmp_path / "probe.py")})}))
    logs = wait_for(lambda: (found := knit.logs()) and any(
        "PROBE=" in f.get("stdout", "") for f in found.values()) and found, what="the probe")
    probe = next(json.loads(line.removeprefix("PROBE=")) for f in logs.values()
                 for line in f.get("stdout", "").splitlines() if line.startswith("PROBE="))
    assert "a container may own keys for itself only" in probe["foreign"]
    assert probe["forged"] == 403
    assert "stolen" not in app.kv and "mine" in app.kv
    # The credential is in the container's token file only: not in what YARN serves.
    served = "".join(text for f in logs.values() for text in f.values() if isinstance(text, str))
    assert "knit-control.secret" not in served and knit._secret not in served
    for container in logs:
        credential = hmac.new(knit._secret.encode(), container.encode(), hashlib.sha256).hexdigest()
        assert credential not in served
    assert probe["tokens"].endswith("container_tokens")
    assert knit.kill() is True


def test_one_per_node_spreads_a_service_over_the_nodes(knit):
    hosts = {n["nodeHostName"] for n in knit.yarn_api.nodes(states="RUNNING")}
    # Small containers that would all fit on one node: the constraint spreads them.
    app = knit.submit(ApplicationSpec(services={"spread": Service(
        script="sleep 300", instances=len(hosts), one_per_node=True)}))
    running = wait_for(lambda: len(c := app.get_containers(states=["RUNNING"])) == len(hosts)
                       and c, what="one container per node")
    assert sorted(c.node.split(":")[0] for c in running) == sorted(hosts)
    # One more would need another node: it waits, and none lands beside another.
    app.scale("spread", delta=1)
    time.sleep(5)
    report = app.am.report()
    assert len(report.live) == len(hosts) and report.services["spread"].pending == 1
    assert knit.kill() is True
    more = len(hosts) + 1
    with pytest.raises(PreflightError, match=rf"services\.s\.one_per_node: {more} containers, "
                                             rf"one per node, need {more} nodes"):
        knit.submit(ApplicationSpec(services={"s": Service(script="true", instances=len(hosts) + 1,
                                                           one_per_node=True)}))
