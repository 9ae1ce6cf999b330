"""Alexa interaction models, one ASK CLI JSON file per locale (package data)."""
