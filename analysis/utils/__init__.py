"""Shared plumbing (import the modules): atomic writes and locks (``atomic``), forked processes
(``forking``), fingerprints of the code and the questionnaire (``provenance``), BLAS threads
(``blas``), lazy exports (``lazy``)."""
