"""The memories.ai compatible API (`/serve/api/...`) and the native import endpoint behind it.

`router` and `import_router` are the HTTP side and `replies` renders the envelope as responses;
the pure translation lives in `convostore.compat.memories_ai`, which the importer shares. Import
the submodules you need: this package imports nothing on its own.
"""
