"""Other machines: SSH hosts, tunnel, bootstrap, file sync; object storage publishing. No Qt."""
