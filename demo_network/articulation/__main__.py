"""`python -m demo_network.articulation`: see the package's docstring."""

import sys

from demo_network.articulation import main

sys.exit(main())
