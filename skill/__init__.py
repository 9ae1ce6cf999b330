"""Mama Moments: an Alexa skill for parents who work from home."""
