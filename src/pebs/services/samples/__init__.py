"""Saliva kits and samples: assignment, collection, shipment to the laboratory, worklists.

The site side of the saliva workflow (``docs/trial/samples.md``). Each use case takes
``(session_maker, actor, ...)``, checks its permission, works through the caller's scope and
audits every change of a kit (``entity="sample"``) or shipment (``entity="shipment"``).
"""

from pebs.services.samples.at_randomisation import (
    KIT_ARM,
    abandon_kits_leaving_arm,
    kit_at_randomisation,
)
from pebs.services.samples.kit_assignment import assign_kit_in
from pebs.services.samples.kits import (
    KIT_PATHWAY_STATES,
    KitAssigned,
    KitMoved,
    Recollection,
    abandon_sample,
    assign_kit,
    record_collection,
    request_recollection,
)
from pebs.services.samples.manifest import MANIFEST_COLUMNS, Manifest, kit_manifest
from pebs.services.samples.shipment_list import (
    MAX_SHIPMENTS_PER_PAGE,
    ShipmentPage,
    ShipmentRow,
    list_shipments,
)
from pebs.services.samples.shipments import (
    ReceivedShipment,
    Shipped,
    UnchangedKit,
    receive_shipment,
    ship_samples,
    shipment_reference,
)
from pebs.services.samples.views import (
    KitView,
    ParticipantKit,
    ShipmentKit,
    ShipmentView,
    WomanKits,
    sample_by_kit,
    samples_of,
    shipment_by_reference,
)
from pebs.services.samples.worklists import KitWorklistEntry, KitWorklists, kit_worklists

__all__ = [
    "KIT_ARM",
    "KIT_PATHWAY_STATES",
    "MANIFEST_COLUMNS",
    "MAX_SHIPMENTS_PER_PAGE",
    "KitAssigned",
    "KitMoved",
    "KitView",
    "KitWorklistEntry",
    "KitWorklists",
    "Manifest",
    "ParticipantKit",
    "ReceivedShipment",
    "Recollection",
    "ShipmentKit",
    "ShipmentPage",
    "ShipmentRow",
    "ShipmentView",
    "Shipped",
    "UnchangedKit",
    "WomanKits",
    "abandon_kits_leaving_arm",
    "abandon_sample",
    "assign_kit",
    "assign_kit_in",
    "kit_at_randomisation",
    "kit_manifest",
    "kit_worklists",
    "list_shipments",
    "receive_shipment",
    "record_collection",
    "request_recollection",
    "sample_by_kit",
    "samples_of",
    "ship_samples",
    "shipment_by_reference",
    "shipment_reference",
]
