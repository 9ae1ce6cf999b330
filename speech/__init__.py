"""Spoken content, SSML helpers and the offline speaker."""
