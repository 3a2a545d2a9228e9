#!/usr/bin/env python3
"""Create the network's CA and its certificates (registry, institutions, partners, operators).

    python deploy/pki.py --dir /etc/credit-registry/pki ca
    python deploy/pki.py --dir /etc/credit-registry/pki server --host registry.example.org
    python deploy/pki.py --dir /etc/credit-registry/pki institution uk.ac.taff
    python deploy/pki.py --dir /etc/credit-registry/pki partner ucas
    python deploy/pki.py --dir /etc/credit-registry/pki operator alice

The code lives in registry_server/pki.py (installed with the project); this is its entry point.
"""

import sys

from registry_server.pki import main

sys.exit(main())
