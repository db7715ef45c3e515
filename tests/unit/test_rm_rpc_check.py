"""The ResourceManager's RPC address is checked before submission (audit item 13: a
wrong yarn.resourcemanager.address failed after 123 s with start_timeout=30)."""

from __future__ import annotations

import socket
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
