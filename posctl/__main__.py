import sys

from posctl.cli import main

sys.exit(main())
