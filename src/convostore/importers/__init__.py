"""Importers: read another system's saved conversations into convostore sessions."""
