"""The flows: decode a record, call one service, publish the outcome (or a delay or dead-letter copy)."""
