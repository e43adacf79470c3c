"""The standalone app's entry point: exactly ``python -m support_tool``.

The same script is the console ``support-tool`` (every platform) and, on Windows, the
windowed ``support-tool-gui.exe``; with no command both open the window. It imports only
the command line, which loads Qt only when the window is wanted. It ends as the
``support-tool`` command does (``cli.entry.run``): a command skips the interpreter's
teardown (~100 ms of CPU for nothing the operator sees; the audit trail, profiles and
reports are closed before), while the window still exits through ``sys.exit`` so that
Qt's objects are taken down in their own order.
"""

import multiprocessing

from support_tool.cli.entry import run

if __name__ == "__main__":
    # verify checks a long audit trail in spawned worker processes; a frozen app must
    # recognise such a child here and run the worker instead of the command line.
    multiprocessing.freeze_support()
    run()
