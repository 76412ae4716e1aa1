"""Reorder-point alerts: recorded by the stream job once per crossing, acknowledged here."""
