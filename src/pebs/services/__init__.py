"""Use cases on top of the core and the adapters. Services never print and never exit."""
