"""The standalone app's entry point: exactly ``python -m support_tool``.

The same script is the console ``support-tool`` (every platform) and, on Windows, the
windowed ``support-tool-gui.exe``; with no command both open the window. It imports only
the command line, which loads Qt only when the window is wanted.
"""

import multiprocessing
import sys

from support_tool.cli.commands import main

if __name__ == "__main__":
    # verify checks a long audit trail in spawned worker processes; a frozen app must
    # recognise such a child here and run the worker instead of the command line.
    multiprocessing.freeze_support()
    sys.exit(main())
