"""Saliva kits and samples: assignment, collection, shipment to the laboratory, worklists."""
