"""The package's version, in a module of its own: the server and the CLI name it without
importing the SDK that `convostore/__init__.py` exports."""

__version__ = "0.1.0"
