"""Pages of the request workflow, split by who uses them: the prescriber's form (depot), the PUI inbox (pui), the
ANSM's review queue and review page (instruction) and statistics (statistiques), the laboratory's answers to the
ANSM's information requests (laboratoire), and the pages every party shares (commun)."""
