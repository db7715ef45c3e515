"""The dask-gateway configuration files of docs/gateway.rst name only options that
exist, on the classes they name (a typo there would be ignored by the gateway)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("dask_gateway_server")
from traitlets.config import Config  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "gateway.rst"


def config_files() -> list[str]:
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", DOC.read_text())
    return [textwrap.dedent(b) for b in blocks if "dask_gateway_config.py" in b]


def configurable(section: str):
    from dask_gateway_server.app import DaskGateway
    from dask_gateway_server.auth import KerberosAuthenticator, SimpleAuthenticator
    from dask_gateway_server.backends.base import Backend

    from knit.gateway import YarnBackend, YarnClusterConfig

    return {"DaskGateway": DaskGateway, "YarnBackend": YarnBackend, "Backend": Backend,
            "YarnClusterConfig": YarnClusterConfig, "SimpleAuthenticator": SimpleAuthenticator,
            "KerberosAuthenticator": KerberosAuthenticator}[section]


@pytest.mark.parametrize("text", config_files(), ids=["kerberos", "simple"])
def test_every_option_of_the_documented_configs_exists(text):
    c = Config()
    exec(compile(text, "docs/gateway.rst", "exec"), {"c": c})  # noqa: S102 - our own docs
    assert c["DaskGateway"]["backend_class"] == "knit.gateway.YarnBackend"
    for section, values in c.items():
        known = configurable(section).class_traits(config=True)
        assert set(values) <= set(known), (section, set(values) - set(known))
    cluster = configurable("YarnClusterConfig")(config=c)  # the values are valid, too
    assert cluster.worker_memory >= 2**30
