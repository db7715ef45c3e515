"""Acting for another user: the name checked before anything reaches the cluster, and
Hadoop's refusal turned into one error naming the settings that allow it."""

from __future__ import annotations

import pytest

from knit import Knit
from knit.arguments import hadoop_user_name
from knit.exceptions import ImpersonationError, KnitTypeError, KnitValueError
from knit.impersonation import refusal


def test_a_refusal_names_the_service_the_user_and_the_properties():
    error = refusal("org.apache.hadoop.security.authorize.AuthorizationException: User: "
                    "svc@EXAMPLE.COM is not allowed to impersonate alice")
    assert isinstance(error, ImpersonationError)
    text = str(error)
    assert "svc@EXAMPLE.COM act as alice" in text
    assert "hadoop.proxyuser.svc.hosts" in text and "hadoop.proxyuser.svc.users" in text
    assert refusal("Permission denied: user=alice, access=WRITE") is None


@pytest.mark.parametrize("name", ["alice", "svc.etl", "a_b-1"])
def test_short_user_names_are_taken(name):
    assert hadoop_user_name("proxy_user", name) == name


@pytest.mark.parametrize("name, error", [
    ("alice@EXAMPLE.COM", KnitValueError), ("", KnitValueError), ("-x", KnitValueError),
    ("a b", KnitValueError), ("a\0b", KnitValueError), (3, KnitTypeError)])
def test_other_names_are_refused_naming_the_option(name, error):
    with pytest.raises(error, match="proxy_user"):
        Knit(proxy_user=name, autodetect=False)
