"""Helpers the tests share: dag runs against the stack (dagrun), and the e2e runs (e2e)."""
