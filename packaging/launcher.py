"""PyInstaller's entry script: the frozen app starts exactly like ``echogen-desktop`` does."""

import multiprocessing
import sys

from echogen_desktop.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # large imports convert in a spawned worker process
    sys.exit(main())
