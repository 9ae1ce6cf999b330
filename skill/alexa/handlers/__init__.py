"""One small handler class per intent; they name content keys, never sentences."""
