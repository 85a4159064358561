import sys

from gitops_guard.cli import main

sys.exit(main())
