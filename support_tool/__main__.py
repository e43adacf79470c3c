"""``python -m support_tool`` behaves exactly like the ``support-tool`` command."""

import sys

from support_tool.cli.commands import main

sys.exit(main())
