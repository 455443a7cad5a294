import sys

from echogen_devstack.cli import main

sys.exit(main())
