"""Which files an environment folder packs: links followed once, loops cut."""

from __future__ import annotations

from knit.packing import env_files


def test_a_link_to_a_folder_holding_the_environment_is_not_followed(tmp_path):
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "tool").write_text("#!/bin/sh\n")
    (env / "parent").symlink_to(tmp_path)  # a loop: parent/env/parent/...
    (env / "self").symlink_to(env)
    assert env_files(env) == [env / "bin" / "tool"]


def test_an_outside_folder_linked_twice_is_packed_once(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.csv").write_text("1,2\n")
    env = tmp_path / "env"
    env.mkdir()
    (env / "a").symlink_to(shared)
    (env / "b").symlink_to(shared)
    assert env_files(env) == [env / "a" / "data.csv"]
