"""Dated price files (`<provider>-<region>-<YYYY-MM>.json`) for the cost model
(core/cost.py); `PRIMEVOD_PRICES` names a file of the user's own instead."""
