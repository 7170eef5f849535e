"""The built-in claims, one file per subject; each file has `claims()`."""
