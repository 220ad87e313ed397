"""Names of the files `spendtray prices update` keeps in ``<data>/prices`` (pure constants, so
that what only checks those files need not load genai-prices). Any thread."""

DATA_FILE = "genai-prices-data.json"
META_FILE = "genai-prices-data.meta.json"
