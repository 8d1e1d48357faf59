"""Command-line interface: ``pebs <noun> <verb>``."""
