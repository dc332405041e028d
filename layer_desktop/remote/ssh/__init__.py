"""GPU hosts over SSH: host profiles, trusted host keys, one paramiko connection per host carrying the
commands, SFTP and the tunnel to an engine started detached on the host. No Qt here."""
