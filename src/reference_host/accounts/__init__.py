"""The host's accounts: domains, users and their keypairs."""
