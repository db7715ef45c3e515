"""dask-yarn's ``dask_yarn.cli``: the ``dask-yarn`` command (:mod:`knit.dask_yarn_cli`),
also what ``dask-yarn services ROLE`` runs in the containers (``python -m dask_yarn.cli``)."""

import sys

from knit.dask_yarn_cli import main

if __name__ == "__main__":
    sys.exit(main())
