"""Webhook handlers: the thin shell that fetches from GitHub, calls the pure cores, applies."""
