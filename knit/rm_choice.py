"""Which ResourceManager of an HA pair (or more) REST calls go to.

A cluster with ``yarn.resourcemanager.ha.rm-ids`` has one active ResourceManager; a
standby redirects REST calls to it (307) and a dead one does not answer. Calls go to
the one that answered last; when it refuses the connection, times out connecting or
says it is not active (503), the next one is tried. The active one found is
remembered for the whole process, so a new :class:`~knit.yarn_api.YARNAPI` of the
same cluster does not start with a ResourceManager left dead for good.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

#: The last ResourceManager that answered, per set of candidates, in this process.
_last_answered: dict[tuple[tuple[str, int], ...], tuple[str, int]] = {}
_lock = threading.Lock()


class ResourceManagers:
    """The ResourceManagers a client may call, and the one it calls now.

    Parameters
    ----------
    first : (str, int)
        Host and web port of the ResourceManager to call first (the configured one).
    others : list of (str, int)
        Every ResourceManager of an HA cluster (``first`` may be among them), in the
        order of ``rm-ids``.
    """

    def __init__(self, first: tuple[str, int], others: list[tuple[str, int]] | None = None):
        candidates = [(str(first[0]), int(first[1]))]
        for host, port in others or []:
            if (str(host), int(port)) not in candidates:
                candidates.append((str(host), int(port)))
        self.candidates = tuple(candidates)
        with _lock:
            self.current = _last_answered.get(self.candidates, self.candidates[0])

    @property
    def several(self) -> bool:
        """Whether there is another ResourceManager to turn to."""
        return len(self.candidates) > 1

    def turn_away(self, host: str, port: int) -> bool:
        """``host:port`` did not serve: call the next candidate from now on. Returns
        whether a full round of candidates has been tried since one last answered."""
        with _lock:
            if (host, port) != self.current:  # another thread turned away already
                return False
            index = self.candidates.index(self.current)
            self.current = self.candidates[(index + 1) % len(self.candidates)]
            round_done = self.current == _last_answered.get(self.candidates, self.candidates[0])
            return round_done

    def answered(self, url: str) -> None:
        """A reply came from ``url`` (after any redirect): if it is one of the
        candidates, call it from now on, in this process."""
        parts = urlsplit(url)
        found = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        if found in self.candidates:
            with _lock:
                self.current = found
                _last_answered[self.candidates] = found

    def __repr__(self) -> str:
        return f"ResourceManagers<{self.current[0]}:{self.current[1]} of {len(self.candidates)}>"
