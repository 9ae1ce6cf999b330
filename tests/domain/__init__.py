"""Pure rules: kid-time and strategies."""
