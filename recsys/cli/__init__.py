"""`python -m recsys`: data, train, evaluate, compare, tune, recommend and artifacts from the command
line, one module per command."""
from recsys.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
