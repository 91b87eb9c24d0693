"""Generators for the LRA tasks whose data can be made offline, in the release's file
format (readers/ reads both alike): ListOps and Pathfinder / Path-X.

    python -m macformer.data.generators.listops --out data/lra_release
    python -m macformer.data.generators.pathfinder --out data/lra_release --size 32

Importing this package loads neither Lightning nor `datasets` (the generator workers).
"""
