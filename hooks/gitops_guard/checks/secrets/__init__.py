"""check-secrets: committed secrets, on the detect-secrets engine."""
