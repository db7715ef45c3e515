"""A task spec that cannot be unpickled on a worker becomes one that fails when run
(knit.dask_guard); other payloads fail as before."""

from __future__ import annotations

import pickle
import sys
import types

import pytest

pytest.importorskip("distributed")
from dask._task_spec import Task  # noqa: E402

from knit import dask_guard  # noqa: E402


def _payload_of_a_module_that_goes_away(obj_factory):
    module = types.ModuleType("gone_module")
    exec("def double(x):\n    return 2 * x\n\nclass Box:\n    pass\n", module.__dict__)
    sys.modules["gone_module"] = module
    try:
        return pickle.dumps(obj_factory(module))
    finally:
        del sys.modules["gone_module"]


def test_an_unloadable_task_raises_when_run_naming_the_module():
    payload = _payload_of_a_module_that_goes_away(lambda m: Task("k", m.double, 2))
    task = dask_guard.loads(payload)
    assert isinstance(task, Task)
    with pytest.raises(ModuleNotFoundError, match="No module named 'gone_module'.*worker_files="):
        task({})


def test_other_payloads_fail_as_before():
    payload = _payload_of_a_module_that_goes_away(lambda m: m.Box())
    with pytest.raises(ModuleNotFoundError, match="gone_module"):
        dask_guard.loads(payload)


def test_loadable_payloads_are_untouched():
    assert dask_guard.loads(pickle.dumps({"a": 1})) == {"a": 1}
