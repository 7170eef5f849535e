"""Machine-checked claims about basinlab's models (built out by the proofs issue)."""
