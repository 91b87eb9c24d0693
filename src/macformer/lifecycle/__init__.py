"""The run around training, without Lightning: check the config, decide skip / resume /
start, hold the run folder's lock, record provenance, classify how the run ended, and
write the run record (summary.json) that the reproduce driver and the report read.

Nothing here imports Lightning (tested), so the driver and the report load fast.
"""
