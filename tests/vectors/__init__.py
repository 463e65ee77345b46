"""Shared step and prediction vectors (*.json) and their generator (generate.py)."""
