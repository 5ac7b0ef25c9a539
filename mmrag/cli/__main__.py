"""``python -m mmrag.cli``: the same command as the ``mmrag`` script."""

import sys

from mmrag.cli import main

sys.exit(main())
