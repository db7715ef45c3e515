"""The application spec: Skein's format reads as is, every field is checked with its
path in the error, and a spec goes to data and back unchanged."""

from __future__ import annotations

import pytest

from knit import ACLs, ApplicationSpec, File, Master, Resources, Service
from knit.arguments import memory_mib
from knit.exceptions import KnitTypeError, KnitValueError

#: A Skein 0.8.2 spec using every field knit honours (Skein's docs' shapes).
SKEIN_SPEC = """\
name: everything
queue: root.batch
user: ""
node_label: ""
tags: [one, two]
file_systems: ["hdfs://other-nn:8020"]
max_attempts: 2
acls:
  enable: true
  view_users: [bob, carol]
  view_groups: [analysts]
  modify_users: [ops]
  modify_groups: []
  ui_users: [bob]
master:
  resources: {memory: 1 GiB, vcores: 2}
  log_level: debug
  env: {DRIVER: "yes"}
  files:
    driver.py: /etc/hostname
  script: python driver.py
services:
  ps:
    instances: 1
    resources: {memory: 2 GiB, vcores: 1, gpus: 0, fpgas: 1}
    files:
      env: {source: "hdfs:///envs/env.tar.gz", type: archive, visibility: public,
            size: 10, timestamp: 20}
      config.json: {source: "hdfs:///conf/config.json"}
    env: {ROLE: ps}
    script: echo ps
    max_restarts: -1
    allow_failures: true
    nodes: [worker1.example.com]
    racks: [/rack1]
    relax_locality: true
  worker:
    instances: 4
    resources: {memory: 512, vcores: 2, gpus: 1}
    depends: [ps]
    node_label: gpu
    script: |
      echo worker
      sleep 1
"""


def test_a_skein_spec_reads_field_for_field():
    spec = ApplicationSpec.from_yaml(SKEIN_SPEC)
    assert (spec.name, spec.queue, spec.tags, spec.max_attempts) == (
        "everything", "root.batch", ("one", "two"), 2)
    assert spec.file_systems == ("hdfs://other-nn:8020",)
    assert spec.acls == ACLs(view_users=("bob", "carol"), view_groups=("analysts",),
                             modify_users=("ops",))
    assert spec.master.resources == Resources(memory=1024, vcores=2)
    assert (spec.master.script, spec.master.env, spec.master.log_level) == (
        "python driver.py", {"DRIVER": "yes"}, "DEBUG")
    ps, worker = spec.services["ps"], spec.services["worker"]
    assert ps.resources.memory == 2048 and ps.resources.yarn_counts() == {"yarn.io/fpga": 1}
    assert ps.files["env"] == File("hdfs:///envs/env.tar.gz", "ARCHIVE", "PUBLIC", 10, 20)
    assert ps.files["config.json"].type == "FILE"
    assert ps.files["config.json"].visibility == "APPLICATION"  # Skein's default
    assert (ps.max_restarts, ps.allow_failures, ps.nodes, ps.racks, ps.relax_locality) == (
        -1, True, ("worker1.example.com",), ("/rack1",), True)
    assert (worker.instances, worker.depends, worker.node_label) == (4, ("ps",), "gpu")
    assert worker.resources.yarn_counts() == {"yarn.io/gpu": 1}
    assert worker.script == "echo worker\nsleep 1\n"


def test_a_spec_goes_to_data_and_back_unchanged():
    spec = ApplicationSpec.from_yaml(SKEIN_SPEC)
    assert ApplicationSpec.from_dict(spec.to_dict()) == spec
    assert ApplicationSpec.from_yaml(spec.to_yaml()) == spec
    assert ApplicationSpec.from_json(spec.to_json()) == spec


def test_relative_local_sources_are_relative_to_the_spec_file(tmp_path):
    (tmp_path / "data.csv").write_text("1,2\n")
    spec_file = tmp_path / "spec.yml"
    spec_file.write_text("services:\n  s:\n    script: cat data.csv\n    files:\n"
                         "      data.csv: data.csv\n      ./model.zip: model.zip\n")
    spec = ApplicationSpec.from_file(spec_file)
    files = spec.services["s"].files
    assert files["data.csv"].local_path == tmp_path / "data.csv"
    assert files["model.zip"].type == "ARCHIVE"  # inferred from the suffix


@pytest.mark.parametrize("text, mib", [("2 GiB", 2048), ("512 MiB", 512), ("1.5GB", 1431),
                                       (300, 300), ("300", 300), (1.2, 2), ("1 TiB", 1024**2)])
def test_memory_sizes_with_units(text, mib):
    assert memory_mib("memory", text) == mib


#: (YAML of a bad spec, the exception, the message's start: the field's path first).
BAD = [
    ("servicez: {}", KnitValueError, "spec.servicez: no such field"),
    ("services: {}", KnitValueError, "services: there must be at least one service"),
    ("services: {s: {}}", KnitValueError, "services.s.script: required"),
    ("services: {s: {script: x, instances: -1}}", KnitValueError, "services.s.instances must be at least 0"),
    ("services: {s: {script: x, instances: two}}", KnitTypeError, "services.s.instances must be a whole"),
    ("services: {s: {script: x, resources: {memory: lots}}}", KnitValueError,
     "services.s.resources.memory: cannot read 'lots'"),
    ("services: {s: {script: x, resources: {vcores: 0}}}", KnitValueError,
     "services.s.resources.vcores must be at least 1"),
    ("services: {s: {script: x, resources: {gpus: -1}}}", KnitValueError,
     "services.s.resources.gpus must be at least 0"),
    ("services: {s: {script: x, resources: {disks: 1}}}", KnitValueError,
     "services.s.resources.disks: no such field"),
    ("services: {s: {script: x, resources: {other: {'bad name!': 1}}}}", KnitValueError,
     "services.s.resources.other: 'bad name!'"),
    ("services: {s: {script: x, files: {a: {source: y, type: folder}}}}", KnitValueError,
     "services.s.files.a.type must be FILE or ARCHIVE"),
    ("services: {s: {script: x, files: {a: {source: y, visibility: world}}}}", KnitValueError,
     "services.s.files.a.visibility must be one of"),
    ("services: {s: {script: x, files: {a: {type: file}}}}", KnitValueError,
     "services.s.files.a.source: required"),
    ("services: {s: {script: x, files: {'a$b': y}}}", KnitValueError, "services.s.files.a$b"),
    ("services: {s: {script: x, env: {'1X': y}}}", KnitValueError, "services.s.env: '1X'"),
    ("services: {s: {script: x, env: {X: 1}}}", KnitTypeError, "services.s.env.X must be a string"),
    ("services: {s: {script: x, max_restarts: -2}}", KnitValueError, "services.s.max_restarts must be -1"),
    ("services: {s: {script: x, allow_failures: 'no'}}", KnitTypeError,
     "services.s.allow_failures must be true or false"),
    ("services: {s: {script: x, nodes: host1}}", KnitTypeError, "services.s.nodes must be a list"),
    ("services: {'bad name': {script: x}}", KnitValueError, "services: 'bad name' is not a service name"),
    ("services: {s: {script: x, depends: [t]}}", KnitValueError, "services.s.depends: no service 't'"),
    ("services: {s: {script: x, depends: [s]}}", KnitValueError, "services.s.depends: the services depend"),
    ("services: {s: {script: x}}\nmax_attempts: 0", KnitValueError, "max_attempts must be at least 1"),
    ("services: {s: {script: x}}\nlifetime: -5", KnitValueError, "lifetime must be a finite"),
    ("services: {s: {script: x}}\ntags: [a,b]\nacls: {enable: yes, view_userz: []}", KnitTypeError,
     "unknown acls key(s) view_userz"),
    ("services: {s: {script: x}}\nacls: {ui_users: [eve]}", KnitValueError, "acls.ui_users:"),
    ("services: {s: {script: x}}\nmaster: {log_config: log4j.properties}", KnitValueError,
     "master.log_config: knit's ApplicationMaster logs"),
    ("services: {s: {script: x}}\nmaster: {security: {cert_file: a}}", KnitValueError,
     "master.security: knit's control channel"),
    ("services: {s: {script: x}}\nmaster: {env: {A: b}}", KnitValueError,
     "master: files and env are the driver's"),
    ("services: {s: {script: x}}\nmaster: {log_level: loud}", KnitValueError, "master.log_level must be"),
    ("services: {s: {script: x}}\ntags: ['a,b']", KnitValueError, "tags: 'a,b'"),
    ("services: {s: {script: x, one_per_node: true, nodes: [h]}}", KnitValueError,
     "services.s.one_per_node cannot be combined"),
    ("services: {s: {script: x, one_per_node: 1}}", KnitTypeError,
     "services.s.one_per_node must be true or false"),
]


@pytest.mark.parametrize("text, error, start", BAD, ids=[b[2].split(":")[0][:40] for b in BAD])
def test_every_bad_field_is_refused_by_its_path(text, error, start):
    with pytest.raises(error) as caught:
        ApplicationSpec.from_yaml(text)
    assert str(caught.value).startswith(start), str(caught.value)


def test_node_label_with_nodes_is_refused_and_the_application_label_is_the_default():
    with pytest.raises(KnitValueError, match="node_label cannot be combined with nodes"):
        Service(script="x", node_label="gpu", nodes=["h1"])
    spec = ApplicationSpec(node_label="fast", services={
        "a": Service(script="x"), "b": Service(script="x", node_label="slow"),
        "c": Service(script="x", nodes=["h1"])})
    assert [s.node_label for s in spec.services.values()] == ["fast", "slow", ""]


def test_skein_acls_without_enable_give_the_owner_alone():
    spec = ApplicationSpec.from_yaml("services: {s: {script: x}}\n"
                                     "acls: {enable: false, view_users: ['*']}")
    assert spec.acls == ACLs()


def test_the_deprecated_commands_become_the_script():
    with pytest.warns(DeprecationWarning, match="services.s.commands is deprecated"):
        spec = ApplicationSpec.from_yaml("services: {s: {commands: [echo a, echo b]}}")
    assert spec.services["s"].script == "echo a\necho b"


def test_a_driver_alone_is_an_application():
    spec = ApplicationSpec(master=Master(script="python run.py"))
    assert spec.services == {} and spec.master.resources.memory == 512
