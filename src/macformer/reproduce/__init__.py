"""`make reproduce-lra`: the LRA sweep of a profile, resumable, then the report.
`python -m macformer.reproduce --help`."""
