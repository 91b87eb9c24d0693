"""Lightning callbacks, one per file. conf/callbacks/default.yaml names each one: those
it instantiates, and in a comment the ones train.py adds itself."""
