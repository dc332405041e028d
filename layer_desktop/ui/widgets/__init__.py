"""Reusable widgets of the studio."""
