"""``python -m support_tool`` behaves exactly like the ``support-tool`` command."""

import sys

from support_tool.cli.entry import run

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # verify checks a long audit trail in spawned worker processes; a frozen app must
        # recognise such a child here and run the worker instead of the command line.
        # Only a frozen app needs it, and importing multiprocessing costs every start ~10 ms.
        import multiprocessing

        multiprocessing.freeze_support()
    run()
