import sys

from echogen_desktop.app import main

sys.exit(main())
