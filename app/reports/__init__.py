"""Figures read across domains for the merchant console (the dashboard): read-only, no writes, no web."""
