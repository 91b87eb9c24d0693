"""`python -m macformer.data.generators.pathfinder ...`: see generate.py."""

from .generate import main

if __name__ == "__main__":  # not in the workers that spawn re-imports this module as
    main()
