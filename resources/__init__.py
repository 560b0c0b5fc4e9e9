"""Bundled assets (icons), installed as package data so a built wheel has them too."""
