"""Ingest: turning what senders post into priced, stored usage events."""
