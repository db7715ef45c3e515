"""Pure logic of the local cluster: ports, layout, generated configuration."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
from lxml import etree

from knit.cluster.config import ClusterConfig, NodePorts, impersonation, site_properties, write_all
from knit.cluster.hadoop_home import share_subdir, write_launchers
from knit.cluster.network import Network, loopback
from knit.cluster.ports import ClusterPorts


def make_config(tmp_path: Path, **kwargs) -> ClusterConfig:
    return ClusterConfig(
        directory=tmp_path,
        ports=ClusterPorts(),
        datanode=NodePorts(40001, 40002, 40003),
        nodemanagers=(NodePorts(40011, 40012, 40013), NodePorts(40021, 40022, 40023)),
        network=kwargs.pop("network", loopback(2)),
        owner="alice",
        **kwargs,
    )


def test_port_overrides_are_checked():
    assert ClusterPorts.from_overrides({"rm_webapp": 18088}).rm_webapp == 18088
    with pytest.raises(ValueError, match="unknown port name"):
        ClusterPorts.from_overrides({"rm_web": 1})
    with pytest.raises(ValueError, match="not a number from 1 to 65535"):
        ClusterPorts.from_overrides({"rm_webapp": 70000})
    with pytest.raises(ValueError, match="share one port"):
        ClusterPorts.from_overrides({"rm_webapp": 9870})


@pytest.mark.parametrize(
    "jar, folder",
    [
        ("hadoop-common-3.4.2.jar", "common"),
        ("hadoop-hdfs-client-3.4.2.jar", "hdfs"),
        ("hadoop-yarn-server-nodemanager-3.4.2.jar", "yarn"),
        ("hadoop-auth-3.4.2.jar", "common/lib"),
        ("guava-27.0-jre.jar", "common/lib"),
    ],
)
def test_jars_land_where_a_hadoop_tarball_has_them(jar, folder):
    assert share_subdir(jar) == folder


def test_everything_binds_to_loopback(tmp_path):
    sites = site_properties(make_config(tmp_path))
    for props in sites.values():
        for key, value in props.items():
            if key.endswith(("address", "hostname")):
                assert value.startswith("127.0.0.1:") or value == "127.0.0.1", (key, value)
    assert sites["core-site.xml"]["fs.defaultFS"] == "hdfs://127.0.0.1:9000"


def test_each_nodemanager_is_a_host_of_its_own(tmp_path):
    config = make_config(tmp_path)
    write_all(config)
    hosts = []
    for index in range(2):
        nm = etree.parse(str(tmp_path / f"nodemanager-{index}" / "conf" / "yarn-site.xml"))
        value = nm.xpath("//property[name='yarn.nodemanager.hostname']/value/text()")[0]
        assert nm.xpath("//property[name='yarn.nodemanager.bind-host']/value/text()") == [value]
        hosts.append(value)
    assert hosts == ["127.0.0.10", "127.0.0.11"]


def test_separated_network_addresses_the_master_on_the_bridge(tmp_path):
    network = Network("separated", "198.18.3.1", ("198.18.3.10", "198.18.3.11"), name="kn00aa11",
                      namespaces=("kn00aa11-n0", "kn00aa11-n1"))
    sites = site_properties(make_config(tmp_path, network=network))
    assert sites["core-site.xml"]["fs.defaultFS"] == "hdfs://198.18.3.1:9000"
    assert sites["yarn-site.xml"]["yarn.resourcemanager.scheduler.address"] == "198.18.3.1:8030"
    assert network.node_command_prefix(1)[-3:] == ["exec", "kn00aa11-n1", "--"]
    assert Network.from_dict(network.as_dict()) == network


def test_acls_and_web_authentication_are_on(tmp_path):
    sites = site_properties(make_config(tmp_path))
    assert sites["yarn-site.xml"]["yarn.acl.enable"] == "true"
    assert sites["yarn-site.xml"]["yarn.admin.acl"] == "alice"
    assert sites["capacity-scheduler.xml"][
        "yarn.scheduler.capacity.root.acl_administer_queue"] == "alice"
    assert sites["core-site.xml"]["hadoop.http.authentication.simple.anonymous.allowed"] == "false"


def test_small_machine_settings(tmp_path):
    sites = site_properties(make_config(tmp_path))
    yarn = sites["yarn-site.xml"]
    assert yarn["yarn.scheduler.minimum-allocation-mb"] == "128"
    assert yarn["yarn.log-aggregation-enable"] == "true"
    assert float(yarn["yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage"]) > 99
    assert {"JAVA_HOME", "PATH", "LANG"} <= set(yarn["yarn.nodemanager.env-whitelist"].split(","))
    assert "$HADOOP_COMMON_HOME/share/hadoop/yarn/*" in yarn["yarn.application.classpath"]
    capacity = sites["capacity-scheduler.xml"]
    assert capacity["yarn.scheduler.capacity.root.queues"] == "default,batch"
    assert float(capacity["yarn.scheduler.capacity.maximum-am-resource-percent"]) >= 0.5


def test_extra_conf_and_per_nodemanager_files(tmp_path):
    config = make_config(tmp_path, extra=(("yarn-site.xml", "my.key", "v"),))
    write_all(config)
    client = etree.parse(str(tmp_path / "conf" / "yarn-site.xml"))
    assert client.xpath("//property[name='my.key']/value/text()") == ["v"]
    for index, ports in enumerate(config.nodemanagers):
        nm = etree.parse(str(tmp_path / f"nodemanager-{index}" / "conf" / "yarn-site.xml"))
        assert nm.xpath("//property[name='yarn.nodemanager.address']/value/text()") == [
            f"127.0.0.{10 + index}:{ports.rpc}"
        ]
        assert nm.xpath("//property[name='my.key']/value/text()") == ["v"]
    assert (tmp_path / "conf" / "log4j.properties").is_file()


def test_launchers_know_hadoop_cli_classes(tmp_path):
    write_launchers(tmp_path / "hadoop", tmp_path / "conf")
    yarn = (tmp_path / "hadoop" / "bin" / "yarn").read_text()
    assert "org.apache.hadoop.yarn.client.cli.ApplicationCLI application" in yarn
    assert "org.apache.hadoop.yarn.client.cli.LogsCLI" in yarn
    env = (tmp_path / "hadoop" / "libexec" / "knit-hadoop-env.sh").read_text()
    assert "--add-opens=java.base/java.lang=ALL-UNNAMED" in env


def test_a_secure_cluster_turns_kerberos_on_everywhere(tmp_path):
    from knit.cluster.kdc import Realm

    realm = Realm(tmp_path / "kerberos", "127.0.0.1", 60088)
    sites = site_properties(make_config(tmp_path, realm=realm))
    core, hdfs, yarn = sites["core-site.xml"], sites["hdfs-site.xml"], sites["yarn-site.xml"]
    assert core["hadoop.security.authentication"] == "kerberos"
    assert core["hadoop.security.authorization"] == "true"
    assert core["hadoop.http.authentication.type"] == "kerberos"
    assert hdfs["dfs.data.transfer.protection"] == "authentication"
    assert hdfs["dfs.block.access.token.enable"] == "true"
    assert yarn["yarn.resourcemanager.principal"] == "rm/localhost@KNIT.LOCAL"
    assert yarn["yarn.nodemanager.keytab"] == str(tmp_path / "kerberos" / "nm.keytab")
    # Service principals act as the cluster's owner; users keep their names.
    rules = core["hadoop.security.auth_to_local"].splitlines()
    assert "RULE:[2:$1@$0](nn@KNIT[.]LOCAL)s/.*/alice/" in rules and rules[-1] == "DEFAULT"
    plain = site_properties(make_config(tmp_path))
    assert plain["core-site.xml"]["hadoop.security.authentication"] == "simple"


def test_impersonation_by_users_and_by_groups():
    from knit.cli import build_parser, _impersonation

    assert impersonation("svc", users=["alice", "bob"]) == {"core-site.xml": {
        "hadoop.proxyuser.svc.hosts": "*", "hadoop.proxyuser.svc.users": "alice,bob"}}
    assert impersonation("svc", groups=["analysts"])["core-site.xml"] == {
        "hadoop.proxyuser.svc.hosts": "*", "hadoop.proxyuser.svc.groups": "analysts"}
    args = build_parser().parse_args(["cluster", "up", "--proxy-groups", "analysts,ops"])
    assert _impersonation(args)["core-site.xml"]["hadoop.proxyuser." + getpass.getuser() +
                                                 ".groups"] == "analysts,ops"
    assert _impersonation(build_parser().parse_args(["cluster", "up"])) is None
