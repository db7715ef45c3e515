"""Two real Unix users on one cluster: what the second may read, reach and kill of the
first's applications (YARN ACLs on, HDFS permissions on, knit's control secret)."""

from __future__ import annotations

import uuid

import pytest
import requests

from knit import Knit

from .other_user import other_user
from .nodemanager import file_names
from .waiting import wait_for

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def bob(cluster_environ):
    return other_user(cluster_environ)


def _am_logs_url(k: Knit, name: str = "") -> str:
    attempt = k.yarn_api.app_attempts(k.app_id)[0]
    base = f"http://{attempt['nodeHttpAddress']}/ws/v1/node"
    if name:
        return f"{base}/containerlogs/{attempt['containerId']}/{name}"
    return f"{base}/containers/{attempt['containerId']}/logs"


def _get(url: str, user: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, params={"user.name": user}, timeout=30)


def test_private_files_and_records_are_closed_to_another_user(cluster_environ, bob, tmp_path):
    local = cluster_environ
    env = tmp_path / "secretenv"
    env.mkdir()
    (env / "data.txt").write_text(uuid.uuid4().hex)
    public = tmp_path / "sharedenv"
    public.mkdir()
    (public / "data.txt").write_text(uuid.uuid4().hex)
    k = Knit(**QUIET)
    k.start("sleep 300", env=str(env), keep_alive=True)
    private_path = next(e["path"] for e in k.list_envs() if "/secretenv" in str(e["path"]))
    records = [f"{k.conf['hdfs_home']}/.knitApps/{k.app_id}.{suffix}"
               for suffix in ("secret", "launch.json")]
    shared = Knit(**QUIET)
    shared.start("true", env=str(public), env_visibility="PUBLIC")
    public_path = next(e["path"] for e in shared.list_envs() if "/sharedenv" in str(e["path"]))
    try:
        for path in (private_path, *records):
            denied = bob.hdfs("-cat", path, hadoop_home=local.hadoop_home)
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, denied.stderr
        # A PUBLIC environment is readable by everyone, by design (and says so).
        assert bob.hdfs("-cat", public_path, hadoop_home=local.hadoop_home).returncode == 0
        attached = bob.python(f"""
            from knit import Knit
            from knit.exceptions import NotFoundError
            try:
                Knit(progress=False).attach({k.app_id!r})
                result = "attached"
            except NotFoundError as exc:
                result = str(exc)
        """)
        assert "has no record" in attached
    finally:
        k.kill()


def test_another_user_cannot_read_logs_steer_or_kill(cluster_environ, bob):
    k = Knit(**QUIET)
    app_id = k.start("echo started; sleep 300", keep_alive=True)
    me = k.conf["user"]
    wait_for(lambda: _get(_am_logs_url(k), me).status_code == 200, what="the AM's log listing")
    # The owner reads the ApplicationMaster's container files (the control secret is in
    # none of them: it reaches the AM as a private file); the other user reads nothing.
    names = file_names(_get(_am_logs_url(k), me).json())
    assert "launch_container.sh" in names
    for name in names:
        assert k._secret not in _get(_am_logs_url(k, name), me).text, name
    for url in (_am_logs_url(k), _am_logs_url(k, "launch_container.sh")):
        refused = _get(url, bob.name)
        assert refused.status_code >= 400, (url, refused.status_code, refused.text[:300])
        assert k._secret not in refused.text
    address = k.status()["amRPCAddress"]
    outcome = bob.python(f"""
        import requests, subprocess
        from knit import Knit
        from knit.exceptions import KnitError
        k = Knit(progress=False)
        try:
            k.yarn_api.kill({app_id!r})
            rest = "killed"
        except KnitError as exc:
            rest = type(exc).__name__ + ": " + str(exc)
        cli = subprocess.run(["yarn", "application", "-kill", {app_id!r}], capture_output=True,
                             text=True, timeout=120)
        control = requests.get("http://{address}/containers", timeout=30,
                               headers={{"X-Knit-Secret": "guessed"}}).status_code
        result = {{"rest": rest, "cli": [cli.returncode, cli.stdout + cli.stderr],
                  "control": control}}
    """)
    assert outcome["rest"].startswith("YARNAuthError: 403") and "acls=" in outcome["rest"], outcome
    assert outcome["cli"][0] != 0 and "AccessControlException" in outcome["cli"][1], outcome
    assert outcome["control"] in (401, 403)
    assert k.runtime_status() == "RUNNING"
    assert len(k.worker_containers()) == 1  # the owner still steers it
    assert k.kill() is True


def test_acls_grant_view_and_modify_to_named_users(cluster_environ, bob):
    viewer = Knit(**QUIET)
    app_id = viewer.start("echo visible; sleep 300", num_containers=2, keep_alive=True,
                          acls={"view_users": [bob.name]})
    wait_for(lambda: _get(_am_logs_url(viewer), bob.name).status_code == 200,
             what="the granted viewer reading the AM's logs")
    # Workers' logs too, also on a node where no ApplicationMaster told it the ACLs.
    workers = wait_for(lambda: len(running := [c for c in viewer.worker_containers()
                                               if c["state"] == "RUNNING"]) == 2 and running,
                       what="both workers")
    for worker in workers:
        node = viewer.yarn_api.container_status(worker["id"])["nodeHttpAddress"]
        url = f"http://{node}/ws/v1/node/containerlogs/{worker['id']}/stdout"
        wait_for(lambda: "visible" in _get(url, bob.name).text, timeout=60,
                 what=f"the granted viewer reading {worker['id']}'s output")
    outcome = bob.python(f"""
        from knit import Knit
        from knit.exceptions import KnitError
        k = Knit(progress=False)
        state = k.yarn_api.state({app_id!r})
        try:
            k.yarn_api.kill({app_id!r})
            kill = "killed"
        except KnitError as exc:
            kill = str(exc)
        result = {{"state": state, "kill": kill}}
    """)
    assert outcome["state"] == "RUNNING" and outcome["kill"] != "killed"  # view is not modify
    viewer.kill()

    owner = Knit(**QUIET)
    app_id = owner.start("sleep 300", keep_alive=True, acls={"modify_users": [bob.name]})
    killed = bob.python(f"""
        from knit import Knit
        result = Knit(progress=False).yarn_api.kill({app_id!r})
    """)
    assert killed is True and owner.runtime_status() == "KILLED"


def test_acls_are_checked_before_submission(cluster_environ):
    k = Knit(**QUIET)
    before = len(k.yarn_api.apps)
    with pytest.raises(TypeError, match="unknown acls key"):
        k.start("true", acls={"readers": ["bob"]})
    with pytest.raises(ValueError, match="not a user or group name"):
        k.start("true", acls={"view_users": ["bob smith"]})
    with pytest.raises(TypeError, match="must be a list"):
        k.start("true", acls={"view_users": "bob"})
    assert len(k.yarn_api.apps) == before


def test_the_cluster_folder_shows_another_user_its_configuration_and_jars_only(cluster_environ,
                                                                               bob):
    """Audit items 2 and 11: B uses the cluster's HADOOP_HOME (jars readable, not links
    into the owner's private caches) but reads none of its state store, data or logs."""
    local = cluster_environ
    k = Knit(**QUIET)
    k.start("sleep 300", keep_alive=True)
    try:
        wait_for(lambda: any(local.directory.joinpath("rm-state").rglob("*")), timeout=60,
                 what="the ResourceManager's state store to hold the application")
        for private in ("rm-state", "logs", "data", "nodemanager-0"):
            probe = bob.run(["find", str(local.directory / private), "-type", "f"])
            assert probe.returncode != 0 and "Permission denied" in probe.stderr, private
        listing = bob.run(["ls", str(local.directory)])
        assert listing.returncode != 0  # traverse, not list
        assert bob.run(["cat", str(local.conf_dir / "yarn-site.xml")]).returncode == 0
        listed = bob.hdfs("-ls", "/", hadoop_home=local.hadoop_home)
        assert listed.returncode == 0, listed.stderr[-2000:]
        apps = bob.python("""
            from knit import Knit
            knit = Knit(progress=False)
            knit.client  # the client JVM, with the cluster's jars on its classpath
            result = sorted(knit.yarn_api.apps)
        """)
        assert k.app_id in apps
        assert not [jar for jar in local.hadoop_home.rglob("*.jar") if jar.is_symlink()]
    finally:
        k.kill()


def test_another_user_cannot_read_a_containers_credential(cluster_environ, bob):
    from knit import ApplicationSpec, Service

    k = Knit(**QUIET)
    k.submit(ApplicationSpec(services={"s": Service(
        script='echo "TOKENS=$HADOOP_TOKEN_FILE_LOCATION"; sleep 300')}))
    logs = wait_for(lambda: (found := k.logs()) and any(
        "TOKENS=" in f.get("stdout", "") for f in found.values()) and found, what="the path")
    path = next(line.removeprefix("TOKENS=") for f in logs.values()
                for line in f.get("stdout", "").splitlines() if line.startswith("TOKENS="))
    from knit.token_file import read_secret_keys
    assert "knit.container.credential" in read_secret_keys(path)  # the owner's own file
    outcome = bob.python(f"""
        try:
            open({path!r}, "rb").read()
            result = "read"
        except OSError as exc:
            result = type(exc).__name__
    """)
    assert outcome in ("PermissionError", "FileNotFoundError"), outcome
    assert k.kill() is True
