"""Lightning callbacks, one per file. conf/callbacks/default.yaml names those it
instantiates; always_on.py adds the ones every run has (and its comment lists them)."""
