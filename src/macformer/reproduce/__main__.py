"""`macformer-reproduce --profile auto` (or `python -m macformer.reproduce`; what `make
reproduce-lra` runs after install and data): plan the sweep, measure what it will cost on
this device, run it on the device's slots, longest runs first, then the report with the
estimate beside the time it took. The stages: driver.py."""

import sys

from .driver import main

if __name__ == "__main__":
    sys.exit(main())
