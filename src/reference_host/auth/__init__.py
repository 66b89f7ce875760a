"""Backend.AI HMAC keypair authentication (WIRE.md §2)."""
