"""Pure rules (kid-time durations, streaks and summaries; strategy rotation) and the typed user
record: no ask-sdk, no I/O."""
