"""PyInstaller's entry script: the frozen app starts exactly like ``echogen-desktop`` does."""

import sys

from echogen_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
