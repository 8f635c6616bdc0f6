"""Entry point of `python -m recsys`."""
import sys

from recsys.cli import main

sys.exit(main())
