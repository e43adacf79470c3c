"""support-tool: close stuck player game sessions through the provider's Close Session API.

The package is split so that everything except ``support_tool.gui`` is free of Qt: the
command line, the sandbox provider and scripts import only the core.
"""

__version__ = "0.1.0"
APP_NAME = "support-tool"
