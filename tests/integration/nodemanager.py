"""Reading what a NodeManager's web API lists."""


def file_names(listing) -> list[str]:
    """Every ``fileName`` in a NodeManager's container log listing, whatever its nesting."""
    if isinstance(listing, dict):
        own = [listing["fileName"]] if "fileName" in listing else []
        return own + [n for value in listing.values() for n in file_names(value)]
    if isinstance(listing, list):
        return [n for value in listing for n in file_names(value)]
    return []
