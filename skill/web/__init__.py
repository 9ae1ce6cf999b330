"""The web layer: the Flask app factory, request checks, the shared skill runner, speech routes."""
