"""Pure rules (kid-time durations, streaks and summaries; strategy rotation): no ask-sdk, no I/O."""
