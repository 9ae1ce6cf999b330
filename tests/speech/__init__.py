"""The speech package: content, SSML, offline voice and its CLI."""
