"""The web layer: endpoint checks, signatures, speech routes, Lambda, gunicorn, CLI and settings."""
