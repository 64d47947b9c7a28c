"""Staff accounts: two-factor log-in, passwords, session limits and the security events."""
