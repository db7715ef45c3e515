"""Configuration discovery, precedence and address inference, on XML written here."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from knit.cluster.config import write_site_file
from knit.conf import find_conf_dir, load_conf, parse_site_file, split_address
from knit.exceptions import ConfigError


def write_conf(folder: Path, **files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, props in files.items():
        write_site_file(folder / f"{name.replace('_', '-')}.xml", props)
    return folder


def test_defaults_without_files():
    conf = load_conf(autodetect=False)
    assert (conf["rm"], conf["rm_port"], conf["nn"], conf["nn_port"]) == ("localhost", 8088, "localhost", 9000)
    assert conf["scheme"] == "http" and conf["replication_factor"] == 3
    assert conf["user"] == getpass.getuser() and conf["lang"] == "C.UTF-8"
    assert conf["conf_dir"] is None


def test_files_then_pars_then_keywords(tmp_path):
    folder = write_conf(
        tmp_path / "conf",
        core_site={"fs.defaultFS": "hdfs://nn.example:8020"},
        hdfs_site={"dfs.replication": "2"},
        yarn_site={"yarn.resourcemanager.webapp.address": "rm.example:8188"},
    )
    env = {"HADOOP_CONF_DIR": str(folder)}
    conf = load_conf(environ=env)
    assert (conf["rm"], conf["rm_port"], conf["nn"], conf["nn_port"]) == ("rm.example", 8188, "nn.example", 8020)
    assert conf["replication_factor"] == 2 and conf["conf_dir"] == str(folder)
    conf = load_conf(environ=env, pars={"yarn.resourcemanager.webapp.address": "other:9999"})
    assert (conf["rm"], conf["rm_port"]) == ("other", 9999)
    conf = load_conf(environ=env, pars={"dfs.replication": "5"}, rm="kw.example", replication_factor=1)
    assert (conf["rm"], conf["rm_port"], conf["replication_factor"]) == ("kw.example", 8188, 1)
    assert load_conf(autodetect=False, pars={"dfs.replication": "4"})["replication_factor"] == 4


def test_autodetect_false_reads_no_file(tmp_path):
    folder = write_conf(tmp_path / "conf", hdfs_site={"dfs.replication": "2"})
    conf = load_conf(autodetect=False, environ={"HADOOP_CONF_DIR": str(folder)})
    assert conf["replication_factor"] == 3


def test_hostname_only_and_variables(tmp_path):
    folder = write_conf(tmp_path / "conf", yarn_site={
        "my.host": "rm-${env.CLUSTER}",
        "yarn.resourcemanager.hostname": "${my.host}.example",
    })
    conf = load_conf(environ={"HADOOP_CONF_DIR": str(folder), "CLUSTER": "blue"})
    assert (conf["rm"], conf["rm_port"]) == ("rm-blue.example", 8088)


def test_https_only_policy(tmp_path):
    folder = write_conf(tmp_path / "conf", yarn_site={
        "yarn.http.policy": "HTTPS_ONLY",
        "yarn.resourcemanager.hostname": "secure.example",
    })
    conf = load_conf(environ={"HADOOP_CONF_DIR": str(folder)})
    assert (conf["scheme"], conf["rm"], conf["rm_port"]) == ("https", "secure.example", 8090)
    folder = write_conf(tmp_path / "conf2", yarn_site={
        "yarn.http.policy": "HTTPS_ONLY",
        "yarn.resourcemanager.webapp.https.address": "secure.example:8443",
    })
    assert load_conf(environ={"HADOOP_CONF_DIR": str(folder)})["rm_port"] == 8443


def test_ha_resourcemanagers_and_nameservice(tmp_path):
    folder = write_conf(
        tmp_path / "conf",
        core_site={"fs.defaultFS": "hdfs://prod"},
        hdfs_site={
            "dfs.nameservices": "prod",
            "dfs.ha.namenodes.prod": "nn1,nn2",
            "dfs.namenode.rpc-address.prod.nn1": "a.example:8020",
            "dfs.namenode.rpc-address.prod.nn2": "b.example:8020",
            "dfs.namenode.http-address.prod.nn1": "a.example:9871",
        },
        yarn_site={
            "yarn.resourcemanager.ha.enabled": "true",
            "yarn.resourcemanager.ha.rm-ids": "rm1,rm2",
            "yarn.resourcemanager.webapp.address.rm1": "r1.example:8088",
            "yarn.resourcemanager.hostname.rm2": "r2.example",
        },
    )
    conf = load_conf(environ={"HADOOP_CONF_DIR": str(folder)})
    assert conf["nn"] == "prod" and conf["nn_port"] is None
    assert conf["nn_ha"] == [("a.example", 8020), ("b.example", 8020)]
    assert conf["nn_http_port"] == 9871
    assert (conf["rm"], conf["rm_port"]) == ("r1.example", 8088)
    assert conf["rm_ha"] == [("r1.example", 8088), ("r2.example", 8088)]


def test_search_order(tmp_path):
    install = tmp_path / "install"
    (install / "hadoop" / "conf").mkdir(parents=True)
    (install / "hadoop" / "conf" / "core-site.xml").write_text("<configuration/>")
    assert find_conf_dir({"HADOOP_INSTALL": str(install)}) == install / "hadoop" / "conf"
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "yarn-site.xml").write_text("<configuration/>")
    assert find_conf_dir({"HADOOP_CONF_DIR": str(explicit), "HADOOP_INSTALL": str(install)}) == explicit
    tarball = tmp_path / "hadoop-3.4.2"
    (tarball / "etc" / "hadoop").mkdir(parents=True)
    assert find_conf_dir({"HADOOP_HOME": str(tarball)}) == tarball / "etc" / "hadoop"
    assert find_conf_dir({"HADOOP_HOME": str(tarball), "HADOOP_INSTALL": str(install)}) == \
        install / "hadoop" / "conf"
    # A Hadoop home without etc/hadoop (knit's local cluster has none) is no error.
    assert find_conf_dir({"HADOOP_HOME": str(tmp_path)}) in (None, Path("/etc/hadoop/conf"))


def test_missing_folder_named_by_variable_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="HADOOP_CONF_DIR=.*is not a folder"):
        load_conf(environ={"HADOOP_CONF_DIR": str(tmp_path / "nowhere")})


def test_a_folder_without_site_files_is_an_error_not_localhost(tmp_path):
    """Audit item 15: an empty HADOOP_CONF_DIR silently meant a cluster on localhost."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no core-site.xml or yarn-site.xml"):
        load_conf(environ={"HADOOP_CONF_DIR": str(tmp_path / "empty")})


def test_malformed_file_is_an_error(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "yarn-site.xml").write_text("<configuration><property><name>x</name>")
    with pytest.raises(ConfigError, match="yarn-site.xml"):
        load_conf(environ={"HADOOP_CONF_DIR": str(folder)})
    (folder / "yarn-site.xml").write_text("<html></html>")
    with pytest.raises(ConfigError, match="not a Hadoop configuration"):
        parse_site_file(folder / "yarn-site.xml")


def test_pars_must_be_a_dict():
    with pytest.raises(TypeError, match="pars must be a dict"):
        load_conf(autodetect=False, pars=[("a", "b")])


@pytest.mark.parametrize("text, expected", [
    ("host:8088", ("host", 8088)),
    ("host", ("host", 1)),
    ("http://host:9870", ("host", 9870)),
    ("0.0.0.0:8088", ("0.0.0.0", 8088)),
])
def test_split_address(text, expected):
    assert split_address(text, 1) == expected


@pytest.mark.parametrize("uri, expected", [
    ("hdfs://tmp/x", "hdfs:///tmp/x"),                       # knit 0.2.4's two slashes
    ("hdfs://user/alice/f.txt", "hdfs:///user/alice/f.txt"),
    ("hdfs:///tmp/x", "hdfs:///tmp/x"),
    ("hdfs://10.0.0.5:9000/tmp/x", "hdfs://10.0.0.5:9000/tmp/x"),  # a port: a NameNode
    ("hdfs://10.0.0.5/tmp/x", "hdfs://10.0.0.5/tmp/x"),      # the default FS's host
    ("hdfs://prod/tmp/x", "hdfs://prod/tmp/x"),              # an HA nameservice
])
def test_two_slash_paths_are_told_from_namenodes(uri, expected):
    from knit.conf import hdfs_uri

    conf = {"fs.defaultFS": "hdfs://10.0.0.5:9000", "nn": "10.0.0.5",
            "dfs.nameservices": "prod,backup"}
    assert hdfs_uri(uri, conf) == expected


def test_get_config_and_infer_extra_params_have_exactly_the_0_2_4_keys(tmp_path, monkeypatch):
    """Issue 23 item 4: 0.2.4's functions, key for key and type for type."""
    import getpass

    from knit.conf import get_config, infer_extra_params

    assert get_config(autodetect=False) == {}  # no user key unless configured
    assert get_config(autodetect=False, pars={"a": "1"}, rm="r") == {"a": "1", "rm": "r"}
    assert infer_extra_params({}) == {"user": getpass.getuser(), "replication_factor": 3,
                                      "rm": "localhost", "rm_port": 8088, "rm_port_https": 8090}
    props = {"yarn.resourcemanager.webapp.address": "rm.example:18088",
             "yarn.resourcemanager.webapp.https.address": "rm.example:18090",
             "dfs.replication": "2"}
    assert infer_extra_params(props) == {"user": getpass.getuser(), "replication_factor": "2",
                                         "rm": "rm.example", "rm_port": 18088,
                                         "rm_port_https": 18090}
    assert infer_extra_params({"yarn.resourcemanager.hostname": "h"})["rm"] == "h"
    for name in ("HADOOP_CONF_DIR", "HADOOP_INSTALL", "HADOOP_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path / "missing"))
    assert set(get_config()) == {"rm", "rm_port", "rm_port_https", "replication_factor", "user"}
    folder = tmp_path / "conf"
    folder.mkdir()
    for name in ("core-site.xml", "yarn-site.xml"):
        (folder / name).write_text(
            "<configuration><property><name>yarn.resourcemanager.webapp.address</name>"
            "<value>rm.example:18088</value></property></configuration>")
    monkeypatch.setenv("HADOOP_CONF_DIR", str(folder))
    conf = get_config(user="alice")
    assert conf["yarn.resourcemanager.webapp.address"] == "rm.example:18088"
    assert (conf["rm"], conf["rm_port"], conf["user"]) == ("rm.example", 18088, "alice")
    assert "nn" not in conf and "scheme" not in conf  # knit's own keys stay in load_conf


def test_addresses_given_against_the_files_are_named():
    from knit.conf import overridden

    conf = {"yarn.resourcemanager.webapp.address": "rm.example.com:8088",
            "fs.defaultFS": "hdfs://nn.example.com:8020", "conf_dir": "/etc/hadoop/conf"}
    said = overridden({"rm": "other", "rm_port": 8088, "nn": None}, conf)
    assert said == ["rm='other' differs from 'rm.example.com' in the Hadoop configuration "
                    "(/etc/hadoop/conf); knit uses 'other' (validate=False skips this check)"]
    assert overridden({"nn": "x"}, {}) == []  # nothing in the files to differ from
