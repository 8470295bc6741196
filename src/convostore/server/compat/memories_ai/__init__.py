"""The memories.ai compatible API (`/serve/api/...`) and the native import endpoint behind it.

`router` and `import_router` are the HTTP side; `mapping` holds the pure translation functions that
the importer shares. Import the submodules you need: this package imports nothing on its own.
"""
