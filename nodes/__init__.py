"""Botloom's built-in node library. Each sub-package is a node pack, registered through the
``botloom.nodes`` entry-point group exactly as a third-party pack would be."""
