"""YARNAPI pieces that need no cluster: URLs, repr, log parsing, bad ids."""

import pytest

from knit.yarn_api import YARNAPI
from knit.yarn_logs import parse_yarn_logs

YARN_LOGS = """\
Container: container_1_0001_01_000002 on host_1234
LogAggregationType: AGGREGATED
====================================================================
LogType:stdout
LogLastModifiedTime:Mon Nov 23 01:08:14 +0000 2026
LogLength:6
LogContents:
hello

End of LogType:stdout
*******************************************************************************

Container: container_1_0001_01_000002 on host_1234
LogAggregationType: AGGREGATED
====================================================================
LogType:stderr
LogLastModifiedTime:Mon Nov 23 01:08:14 +0000 2026
LogLength:0
LogContents:

End of LogType:stderr
"""


def test_repr_and_url_with_gateway():
    api = YARNAPI("gw.example", 8443, scheme="https", gateway_path="gateway/default/resourcemanager/")
    assert repr(api) == "YARNAPI<https://gw.example:8443/gateway/default/resourcemanager>"
    assert api.url == "https://gw.example:8443/gateway/default/resourcemanager/ws/v1/"
    assert repr(YARNAPI("127.0.0.1", 8088)) == "YARNAPI<http://127.0.0.1:8088>"


def test_parse_yarn_logs():
    assert parse_yarn_logs(YARN_LOGS) == {"container_1_0001_01_000002": {
        "stdout": "hello\n", "stderr": "", "nodeId": "host:1234"}}


def test_bad_scheme_and_bad_app_id():
    with pytest.raises(ValueError, match="scheme"):
        YARNAPI("h", 1, scheme="ftp")
    with pytest.raises(ValueError, match="not a YARN application id"):
        YARNAPI("127.0.0.1", 1).status("job_1")


def test_parse_yarn_logs_takes_each_file_by_its_length_not_by_markers():
    """Audit item 9: a container printing `End of LogType:stdout` or a header-shaped line
    cut its output short and added a container that does not exist."""
    tricky = ("before\nEnd of LogType:stdout\n*****\n\nContainer: container_9_0009_01_000009 on x_1\n"
              "LogType:stdout\nLogLength:3\nLogContents:\nno\nafter é\n")
    size = len(tricky.encode())
    text = (f"Container: container_1_0001_01_000002 on host_1234\nLogAggregationType: AGGREGATED\n"
            f"=====\nLogType:stdout\nLogLastModifiedTime:Mon Nov 23 01:08:14 +0000 2026\n"
            f"LogLength:{size}\nLogContents:\n{tricky}\nEnd of LogType:stdout\n*****\n\n"
            "Container: container_1_0001_01_000002 on host_1234\nLogType:stderr\n"
            "LogLength:0\nLogContents:\n\nEnd of LogType:stderr\n")
    assert parse_yarn_logs(text) == {"container_1_0001_01_000002": {
        "stdout": tricky, "stderr": "", "nodeId": "host:1234"}}
    assert parse_yarn_logs(text.encode()) == parse_yarn_logs(text)


def test_parse_yarn_logs_without_lengths_reads_to_the_end_marker():
    text = ("Container: container_1_0001_01_000002\nLogType:stdout\nLogContents:\nhi\n\n"
            "End of LogType:stdout\n")
    assert parse_yarn_logs(text) == {"container_1_0001_01_000002": {"stdout": "hi\n"}}


def test_parse_yarn_logs_of_a_tail_takes_the_bytes_sent_not_the_whole_length():
    """YARN's header gives the whole file's LogLength even when only its last (or
    first) ``|size|`` bytes were sent."""
    from knit.yarn_logs import parse_log_files

    text = ("Container: container_1_0001_01_000002 on host_1\nLogType:stdout\nLogLength:100\n"
            "LogContents:\nlast 8\n\nEnd of LogType:stdout\n"
            "LogType:stderr\nLogLength:3\nLogContents:\nab\n\nEnd of LogType:stderr\n")
    assert parse_yarn_logs(text, size=-8)["container_1_0001_01_000002"] == {
        "stdout": "last 8\n\n", "stderr": "ab\n", "nodeId": "host:1"}
    files = parse_log_files(text, size=-8)["container_1_0001_01_000002"]
    assert files["stdout"] == (100, b"last 8\n\n") and files["stderr"] == (3, b"ab\n")
