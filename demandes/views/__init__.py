"""Pages of the request workflow, split by who uses them: the prescriber's form (depot), the PUI inbox (pui),
the ANSM's list (instruction), and the pages every party shares (commun)."""
