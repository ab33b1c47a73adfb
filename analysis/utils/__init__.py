"""Shared plumbing: atomic writes and locks, BLAS threads, lazy exports (import the modules)."""
