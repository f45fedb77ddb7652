#!/usr/bin/env python3
"""newsmirror's command line: `python build.py --help` lists every command and option."""

import sys

from newsmirror.cli import main

if __name__ == "__main__":
    sys.exit(main())
