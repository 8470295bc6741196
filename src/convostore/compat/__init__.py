"""Other services' wire formats, as pure codecs: where a compatibility shape is decided.

Each sub-package turns convostore's domain values into a foreign service's JSON and back, with no
HTTP and no SQL, so the HTTP routers (`convostore.server.compat`) and the importers share one
translation and golden tests can check it without a server.
"""
