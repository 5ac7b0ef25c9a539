"""The package version, in a leaf module: what records it (the manifest
fingerprint) imports this, never the package root."""

__version__ = "0.1.0"
