"""The pure core: the domain, page reading and writing, figures, reports. No I/O library."""
