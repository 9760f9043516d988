"""The files around the code, checked offline: deploy/, the alert rules and the dashboard,
the lock file, the README."""
