"""`make bench`: a generated parlor at a chosen scale, and the time each staff operation takes on it.

Read bench/README.md for what each figure means and bench/FINDINGS.md for where the time goes."""
