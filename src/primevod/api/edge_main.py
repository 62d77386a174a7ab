"""Import target for `primevod edge --workers N` (each uvicorn worker builds its own app)."""

from primevod import wiring
from primevod.api.app import create_edge_app

wiring.build()
app = create_edge_app()
