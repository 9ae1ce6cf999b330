"""Pure rules and the typed user record: no ask-sdk, no I/O."""
