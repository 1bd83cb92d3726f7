"""`ftk lint`: rules over records, a report, and an optional cleaned copy."""
