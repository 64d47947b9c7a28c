"""Flags: raising them when a screening or clearance changes, the 24 h / 2 h scan before each appointment,
holds, and the subscription to screening events. Uses booking; never imports care."""
