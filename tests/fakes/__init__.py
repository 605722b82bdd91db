"""In-process fakes of external platforms, served over real local sockets."""
