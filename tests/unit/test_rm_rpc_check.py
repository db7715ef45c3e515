"""The ResourceManager's RPC address is checked before submission (audit item 13: a
wrong yarn.resourcemanager.address failed after 123 s with start_timeout=30)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from knit.checks import check_rm_rpc_reachable, rm_rpc_addresses
from knit.exceptions import ClusterUnreachableError


def test_the_addresses_tried_follow_hadoops_keys():
    assert rm_rpc_addresses({"rm": "rm.example"}) == [("rm.example", 8032)]
    assert rm_rpc_addresses({"yarn.resourcemanager.address": "a:18032"}) == [("a", 18032)]
    ha = {"yarn.resourcemanager.ha.enabled": "true", "yarn.resourcemanager.ha.rm-ids": "r1,r2",
          "yarn.resourcemanager.address.r1": "a:1", "yarn.resourcemanager.hostname.r2": "b"}
    assert rm_rpc_addresses(ha) == [("a", 1), ("b", 8032)]


def test_a_dead_address_fails_at_once_naming_it():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ClusterUnreachableError, match=f"127.0.0.1:{dead} \\(from yarn.resourcemanager.address: "):
        check_rm_rpc_reachable({"yarn.resourcemanager.address": f"127.0.0.1:{dead}"})
    assert time.monotonic() - started < 5


def test_one_answering_address_of_an_ha_pair_is_enough():
    with socket.socket() as listener, socket.socket() as probe:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
        check_rm_rpc_reachable({
            "yarn.resourcemanager.ha.enabled": "true", "yarn.resourcemanager.ha.rm-ids": "r1,r2",
            "yarn.resourcemanager.address.r1": f"127.0.0.1:{dead}",
            "yarn.resourcemanager.address.r2": f"127.0.0.1:{listener.getsockname()[1]}"})


def test_an_ha_pair_is_waited_for_while_a_standby_is_elected():
    # A standby opens its client port only once elected: none listens for a moment.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        conf = {"yarn.resourcemanager.ha.enabled": "true", "yarn.resourcemanager.ha.rm-ids": "r1,r2",
                "yarn.resourcemanager.address.r1": f"127.0.0.2:{port}",
                "yarn.resourcemanager.address.r2": f"127.0.0.1:{port}"}
        elected = threading.Timer(1.0, listener.listen)
        elected.start()
        told = []
        started = time.monotonic()
        check_rm_rpc_reachable(conf, failover_wait=20, progress=told.append)
        elected.join()
    assert 0.9 < time.monotonic() - started < 10
    assert told and "waiting up to 20 s" in told[0]


def test_an_ha_pair_that_never_answers_fails_after_the_wait_naming_both():
    conf = {"yarn.resourcemanager.ha.enabled": "true", "yarn.resourcemanager.ha.rm-ids": "r1,r2"}
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        conf |= {"yarn.resourcemanager.address.r1": f"127.0.0.1:{a.getsockname()[1]}",
                 "yarn.resourcemanager.address.r2": f"127.0.0.1:{b.getsockname()[1]}"}
        with pytest.raises(ClusterUnreachableError, match=r"address\.r1: .*address\.r2: .*tried for 1 s"):
            check_rm_rpc_reachable(conf, failover_wait=1)
