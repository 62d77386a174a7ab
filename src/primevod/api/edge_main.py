"""Import target for `primevod edge --workers N` (each uvicorn worker builds its own app)."""

from primevod import wiring
from primevod.api.app import create_edge_app
from primevod.api.edge import FastEdge

wiring.setup_telemetry(wiring.build())
app = FastEdge(create_edge_app())
