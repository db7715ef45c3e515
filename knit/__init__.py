"""knit: launch, monitor and destroy distributed programs on Apache Hadoop YARN."""

__version__ = "0.3.0"
